package nodee2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/weirnet/weir/node/runtime/testimage"
)

// accService is a ClusterIP Service for the pods labelled app=name.
func accService(name, ip string) *corev1.Service {
	s := podsService()
	s.Name, s.Spec.ClusterIP, s.Spec.Selector = name, ip, map[string]string{"app": name}
	return s
}

// webPod is the test server with small requests (so that the scheduler's
// least-allocated score spreads replicas) and a readiness probe on
// /healthz every second.
func webPod(labels map[string]string) corev1.PodTemplateSpec {
	grace := int64(5)
	return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
		Spec: corev1.PodSpec{TerminationGracePeriodSeconds: &grace,
			Containers: []corev1.Container{{Name: "web", Image: testimage.Name, ImagePullPolicy: corev1.PullNever,
				Args:  []string{"-udp-echo="},
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}},
				Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
					corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("16Mi")}},
				ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080)}},
					PeriodSeconds: 1, FailureThreshold: 1, SuccessThreshold: 1, TimeoutSeconds: 1}}}}}
}

// accDeployment is a Deployment of webPod with RollingUpdate maxSurge 1,
// maxUnavailable 0.
func accDeployment(name string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	surge, unavail := intstr.FromInt32(1), intstr.FromInt32(0)
	return &appsv1.Deployment{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: appsv1.DeploymentSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &surge, MaxUnavailable: &unavail}},
			Template: webPod(labels)}}
}

// podsBy lists the pods matching selector and records their UIDs.
func (a *acc) podsBy(t *testing.T, selector string) []corev1.Pod {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	list, err := a.api.List(ctx, gvrPods, "default", listOpts(selector))
	if err != nil {
		return nil
	}
	var pods []corev1.Pod
	for _, item := range list.Items {
		var p corev1.Pod
		if err := kruntime.DefaultUnstructuredConverter.FromUnstructured(item.Object, &p); err != nil {
			t.Fatalf("decode pod: %v", err)
		}
		a.uids.add(string(p.UID))
		pods = append(pods, p)
	}
	return pods
}

func podIsReady(p *corev1.Pod) bool {
	for _, cd := range p.Status.Conditions {
		if cd.Type == corev1.PodReady {
			return cd.Status == corev1.ConditionTrue && p.Status.Phase == corev1.PodRunning && p.Status.PodIP != ""
		}
	}
	return false
}

// readyAddrs is the set of ready addresses in svc's EndpointSlices.
func (c *cluster) readyAddrs(t *testing.T, svc string) (map[string]bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	list, err := c.api.List(ctx, gvrSlices, "default", listOpts("kubernetes.io/service-name="+svc))
	if err != nil {
		return nil, err
	}
	got := map[string]bool{}
	for _, item := range list.Items {
		var s discoveryv1.EndpointSlice
		if err := kruntime.DefaultUnstructuredConverter.FromUnstructured(item.Object, &s); err != nil {
			t.Fatalf("decode EndpointSlice: %v", err)
		}
		for _, ep := range s.Endpoints {
			if ep.Conditions.Ready != nil && *ep.Conditions.Ready {
				for _, addr := range ep.Addresses {
					got[addr] = true
				}
			}
		}
	}
	return got, nil
}

// modify reads an object, applies f to it and writes it back, retrying
// conflicts.
func (a *acc) modify(t *testing.T, gvr schema.GroupVersionResource, ns, name string, f func(*unstructured.Unstructured) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var last error
	for i := 0; i < 10; i++ {
		obj, err := a.api.Get(ctx, gvr, ns, name)
		if err != nil {
			t.Fatalf("get %s %s: %v", gvr.Resource, name, err)
		}
		if err := f(obj); err != nil {
			t.Fatalf("change %s %s: %v", gvr.Resource, name, err)
		}
		if _, last = a.api.Update(ctx, gvr, ns, obj); last == nil {
			return
		}
		if !apierrors.IsConflict(last) {
			break
		}
	}
	t.Fatalf("update %s %s: %v", gvr.Resource, name, last)
}

// deleteAndWait deletes obj and waits until no pod matches selector.
func (a *acc) deleteAndWait(t *testing.T, gvr schema.GroupVersionResource, name, selector string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.api.Delete(ctx, gvr, "default", name); err != nil && !strings.Contains(err.Error(), "not found") {
		t.Fatalf("delete %s %s: %v", gvr.Resource, name, err)
	}
	waitFor(t, fmt.Sprintf("no pods left of %s %s", gvr.Resource, name), 60*time.Second, func() bool {
		return len(a.podsBy(t, selector)) == 0
	})
}

// podSummary is one line per pod for failure messages.
func podSummary(pods []corev1.Pod) string {
	var b strings.Builder
	for _, p := range pods {
		fmt.Fprintf(&b, "\n  %s on %q phase %s ip %s ready %v deleting %v", p.Name, p.Spec.NodeName, p.Status.Phase, p.Status.PodIP, podIsReady(&p), p.DeletionTimestamp != nil)
		for _, cd := range p.Status.Conditions {
			if cd.Status != corev1.ConditionTrue {
				fmt.Fprintf(&b, " [%s=%s %s: %s]", cd.Type, cd.Status, cd.Reason, cd.Message)
			}
		}
	}
	return b.String()
}
