package localcluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
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

const demoApp = "demo"

var (
	gvrNodes       = schema.GroupVersionResource{Version: "v1", Resource: "nodes"}
	gvrPods        = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	gvrServices    = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	gvrDeployments = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
)

// demoReplicas: one demo pod per node (so that the self-check asks DNS
// from a pod on every node), at least 2 and at most 10.
func demoReplicas(nodes int) int32 { return int32(min(max(2, nodes), 10)) }

// demoObjects: a Deployment of the test server (replicas pods) behind a
// ClusterIP Service demo and a NodePort Service demo-nodeport.
func demoObjects(replicas int32) []kruntime.Object {
	grace := int64(5)
	labels := map[string]string{"app": demoApp}
	port := []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(8080)}}
	return []kruntime.Object{
		&corev1.Service{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
			ObjectMeta: metav1.ObjectMeta{Name: demoApp, Namespace: "default"},
			Spec:       corev1.ServiceSpec{Selector: labels, Ports: port}},
		&corev1.Service{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
			ObjectMeta: metav1.ObjectMeta{Name: demoApp + "-nodeport", Namespace: "default"},
			Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Selector: labels, Ports: port}},
		&appsv1.Deployment{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
			ObjectMeta: metav1.ObjectMeta{Name: demoApp, Namespace: "default"},
			Spec: appsv1.DeploymentSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec: corev1.PodSpec{TerminationGracePeriodSeconds: &grace,
						Containers: []corev1.Container{{Name: "web", Image: testimage.Name, ImagePullPolicy: corev1.PullNever,
							Args:  []string{"-udp-echo="},
							Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}}}}}}}},
	}
}

var gvrOf = map[string]schema.GroupVersionResource{"Service": gvrServices, "Deployment": gvrDeployments}

// deployDemo creates the demo objects (an existing one is kept) and
// returns the demo Service's ClusterIP.
func deployDemo(ctx context.Context, api *client.Client, replicas int32) (string, error) {
	for _, o := range demoObjects(replicas) {
		m, err := kruntime.DefaultUnstructuredConverter.ToUnstructured(o)
		if err != nil {
			return "", err
		}
		u := &unstructured.Unstructured{Object: m}
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		_, err = api.Create(cctx, gvrOf[u.GetKind()], "default", u)
		cancel()
		if err != nil && !strings.Contains(strings.ToLower(err.Error()), "already exists") {
			return "", fmt.Errorf("create %s %s: %w", u.GetKind(), u.GetName(), err)
		}
	}
	svc, err := api.Get(ctx, gvrServices, "default", demoApp)
	if err != nil {
		return "", fmt.Errorf("read Service %s: %w", demoApp, err)
	}
	ip, _, _ := unstructured.NestedString(svc.Object, "spec", "clusterIP")
	if ip == "" {
		return "", errors.New("Service demo has no ClusterIP")
	}
	return ip, nil
}

// podsReady counts the demo pods that run and are Ready with an IP.
func podsReady(ctx context.Context, api *client.Client) (int, error) {
	list, err := api.List(ctx, gvrPods, "default", client.ListOptions{LabelSelector: "app=" + demoApp})
	if err != nil {
		return 0, err
	}
	ready := 0
	for _, item := range list.Items {
		var p corev1.Pod
		if err := kruntime.DefaultUnstructuredConverter.FromUnstructured(item.Object, &p); err != nil {
			return 0, fmt.Errorf("decode pod: %w", err)
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue && p.Status.Phase == corev1.PodRunning && p.Status.PodIP != "" {
				ready++
			}
		}
	}
	return ready, nil
}

// nodeReady reports whether Node name is Ready with a pod CIDR.
func nodeReady(ctx context.Context, api *client.Client, name string) bool {
	obj, err := api.Get(ctx, gvrNodes, "", name)
	if err != nil {
		return false
	}
	cidr, _, _ := unstructured.NestedString(obj.Object, "spec", "podCIDR")
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, cd := range conds {
		if m, _ := cd.(map[string]any); m["type"] == "Ready" {
			return m["status"] == "True" && cidr != ""
		}
	}
	return false
}
