package nodee2e

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/weirnet/weir/control/client"
	"github.com/weirnet/weir/node/runtime/testimage"
)

func podsService() *corev1.Service {
	return &corev1.Service{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: podsApp, Namespace: "default"},
		Spec: corev1.ServiceSpec{ClusterIP: podsSvc, Selector: map[string]string{"app": podsApp},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(8080)}}}}
}

// podsDeployment runs the test server, one replica per node.
func podsDeployment(replicas int32) *appsv1.Deployment {
	grace := int64(5)
	labels := map[string]string{"app": podsApp}
	return &appsv1.Deployment{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: podsApp, Namespace: "default"},
		Spec: appsv1.DeploymentSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{TerminationGracePeriodSeconds: &grace,
					Affinity: &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
						RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
							LabelSelector: &metav1.LabelSelector{MatchLabels: labels}, TopologyKey: "kubernetes.io/hostname"}}}},
					Containers: []corev1.Container{{Name: "web", Image: testimage.Name, ImagePullPolicy: corev1.PullNever,
						Args:  []string{"-udp-echo="},
						Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}}}}}}}}
}

func (c *cluster) createTyped(t *testing.T, gvr schema.GroupVersionResource, obj kruntime.Object) {
	t.Helper()
	m, err := kruntime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatal(err)
	}
	c.create(t, gvr, &unstructured.Unstructured{Object: m})
}

// appPods lists the Deployment's pods and records their UIDs.
func (c *cluster) appPods(t *testing.T, uids *uidSet) []corev1.Pod {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	list, err := c.api.List(ctx, gvrPods, "default", listApp())
	if err != nil {
		return nil
	}
	var pods []corev1.Pod
	for _, item := range list.Items {
		var p corev1.Pod
		if err := kruntime.DefaultUnstructuredConverter.FromUnstructured(item.Object, &p); err != nil {
			t.Fatalf("decode pod: %v", err)
		}
		uids.add(string(p.UID))
		pods = append(pods, p)
	}
	return pods
}

func readyOnDistinctNodes(pods []corev1.Pod, want int) bool {
	nodes := map[string]bool{}
	for _, p := range pods {
		ready := false
		for _, cd := range p.Status.Conditions {
			ready = ready || cd.Type == corev1.PodReady && cd.Status == corev1.ConditionTrue
		}
		if p.Status.Phase != corev1.PodRunning || !ready || p.Status.PodIP == "" || len(p.Status.PodIPs) == 0 {
			return false
		}
		nodes[p.Spec.NodeName] = true
	}
	return len(pods) == want && len(nodes) == want
}

// sliceReady: the Service's EndpointSlices list exactly ips, all ready.
func (c *cluster) sliceReady(t *testing.T, ips map[string]bool) bool {
	got, err := c.readyAddrs(t, podsApp)
	if err != nil || len(got) != len(ips) {
		return false
	}
	for ip := range ips {
		if !got[ip] {
			return false
		}
	}
	return true
}

// deleteApp deletes the Deployment, its ReplicaSets and its pods.
func (c *cluster) deleteApp(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.api.Delete(ctx, gvrDeployments, "default", podsApp); err != nil {
		t.Fatalf("delete Deployment: %v", err)
	}
	for _, gvr := range []schema.GroupVersionResource{gvrReplicaSets, gvrPods} {
		list, err := c.api.List(ctx, gvr, "default", listApp())
		if err != nil {
			t.Fatalf("list %s: %v", gvr.Resource, err)
		}
		for _, item := range list.Items {
			if err := c.api.Delete(ctx, gvr, "default", item.GetName()); err != nil && !strings.Contains(err.Error(), "not found") {
				t.Fatalf("delete %s %s: %v", gvr.Resource, item.GetName(), err)
			}
		}
	}
}

func listApp() client.ListOptions { return listOpts("app=" + podsApp) }

func listOpts(selector string) client.ListOptions { return client.ListOptions{LabelSelector: selector} }
