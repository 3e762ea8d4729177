package client_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// TestPodFor: POD and pod/POD pass through; deploy/NAME and svc/NAME pick
// a selected pod, Ready before Running before Pending; a workload that
// selects nothing and an unknown type are clear errors.
func TestPodFor(t *testing.T) {
	c := newCluster(t)
	ctx := ctxT(t)
	pods := schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	mk := func(obj kruntime.Object, gvr schema.GroupVersionResource) *unstructured.Unstructured {
		t.Helper()
		m, err := kruntime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			t.Fatal(err)
		}
		out, err := c.client.Create(ctx, gvr, "default", &unstructured.Unstructured{Object: m})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	pod := func(name string, phase corev1.PodPhase, ready bool) {
		p := &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"app": "web"}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox:1"}}}}
		u := mk(p, pods)
		st := corev1.ConditionFalse
		if ready {
			st = corev1.ConditionTrue
		}
		p.ResourceVersion = u.GetResourceVersion()
		p.Status = corev1.PodStatus{Phase: phase, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: st}}}
		body, _ := json.Marshal(p)
		req, _ := http.NewRequestWithContext(ctx, "PUT", c.server.URL+"/api/v1/namespaces/default/pods/"+name+"/status", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("PUT pods/%s/status: %s", name, resp.Status)
		}
	}
	pod("web-pending", corev1.PodPending, false)
	time.Sleep(1100 * time.Millisecond) // creation timestamps have one-second resolution
	pod("web-ready", corev1.PodRunning, true)
	time.Sleep(1100 * time.Millisecond)
	pod("web-running", corev1.PodRunning, false)
	replicas, labels := int32(0), map[string]string{"app": "web"}
	mk(&appsv1.Deployment{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox:1"}}}}}},
		schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"})
	mk(&corev1.Service{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{{Port: 80}}}},
		schema.GroupVersionResource{Version: "v1", Resource: "services"})

	for ref, want := range map[string]string{"anything": "anything", "pod/x": "x", "po/x": "x",
		"deploy/web": "web-ready", "deployments.apps/web": "web-ready", "svc/web": "web-ready"} {
		got, err := c.client.PodFor(ctx, "default", ref)
		if err != nil || got != want {
			t.Errorf("PodFor(%q) = %q, %v; want %q", ref, got, err, want)
		}
	}
	for ref, want := range map[string]string{"deploy/ghost": "not found", "frobnicators/x": "frobnicators",
		"svc/kubernetes": "no selector", "deploy/": "TYPE/NAME"} {
		if _, err := c.client.PodFor(ctx, "default", ref); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("PodFor(%q): %v, want an error containing %q", ref, err, want)
		}
	}
}
