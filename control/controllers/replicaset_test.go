package controllers_test

import (
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/controllers/kube"
)

func podTemplate(app, image string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": app}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: image,
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}}},
	}
}

func int32p(v int32) *int32 { return &v }

// TestReplicaSet: pods are created from the template with an owner
// reference, status follows readiness, scale-down keeps the ready pods,
// and deleting the ReplicaSet lets the garbage collector remove its pods.
func TestReplicaSet(t *testing.T) {
	c := start(t)
	rs := &appsv1.ReplicaSet{
		TypeMeta:   metav1.TypeMeta{Kind: "ReplicaSet", APIVersion: "apps/v1"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: appsv1.ReplicaSetSpec{Replicas: int32p(3), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: podTemplate("web", "busybox")},
	}
	if err := c.Create(bg, kube.ReplicaSets, "default", rs, rs); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() string {
		pods := listPods(t, c, "default")
		if len(pods) != 3 {
			return fmt.Sprintf("%d pods, want 3", len(pods))
		}
		for _, p := range pods {
			if r := p.OwnerReferences; len(r) != 1 || r[0].UID != rs.UID || r[0].Controller == nil || !*r[0].Controller {
				return fmt.Sprintf("pod %s owners %+v", p.Name, r)
			}
		}
		return ""
	})
	pods := listPods(t, c, "default")
	for i := range 2 {
		if err := setPodStatus(c, &pods[i], corev1.PodRunning, true, fmt.Sprintf("10.0.0.%d", i+1)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, func() string {
		var got appsv1.ReplicaSet
		if err := c.Get(bg, kube.ReplicaSets, "default", "web", &got); err != nil {
			return err.Error()
		}
		if s := got.Status; s.Replicas != 3 || s.ReadyReplicas != 2 || s.AvailableReplicas != 2 {
			return fmt.Sprintf("status %+v", s)
		}
		return ""
	})
	if err := c.Get(bg, kube.ReplicaSets, "default", "web", rs); err != nil {
		t.Fatal(err)
	}
	rs.Spec.Replicas = int32p(2)
	if err := c.Update(bg, kube.ReplicaSets, "default", "web", rs, rs); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() string {
		pods := listPods(t, c, "default")
		readyN := 0
		for i := range pods {
			if ready(&pods[i]) {
				readyN++
			}
		}
		if len(pods) != 2 || readyN != 2 {
			return fmt.Sprintf("%d pods (%d ready), want the 2 ready ones", len(pods), readyN)
		}
		return ""
	})
	eventually(t, func() string { return findEvent(c, "default", "web", "SuccessfulDelete") })
	if err := c.Delete(bg, kube.ReplicaSets, "default", "web", "", nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() string {
		if n := len(listPods(t, c, "default")); n != 0 {
			return fmt.Sprintf("%d orphan pods left", n)
		}
		return ""
	})
}
