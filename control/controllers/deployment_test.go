package controllers_test

import (
	"fmt"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/weirnet/weir/control/controllers"
)

// TestDeploymentRollingUpdate: a Deployment of 3 (maxSurge 1,
// maxUnavailable 0) becomes available as the test's kubelet readies pods;
// a new image rolls out through a second ReplicaSet (revision 2) without
// ever dropping below 3 ready pods or going above 4 pods.
func TestDeploymentRollingUpdate(t *testing.T) {
	c := start(t)
	var mu sync.Mutex
	minReady, maxPods := 1<<30, 0
	started := false
	runKubelet(t, c, "default", func(pods []corev1.Pod) {
		mu.Lock()
		defer mu.Unlock()
		if !started {
			return
		}
		n := 0
		for i := range pods {
			if ready(&pods[i]) {
				n++
			}
		}
		minReady, maxPods = min(minReady, n), max(maxPods, len(pods))
	})
	one, zero := intstr.FromInt32(1), intstr.FromInt32(0)
	d := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{Kind: "Deployment", APIVersion: "apps/v1"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{Replicas: int32p(3), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: podTemplate("web", "busybox:1"),
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &one, MaxUnavailable: &zero}}},
	}
	if err := into(d)(c.AppsV1().Deployments("default").Create(bg, d, metav1.CreateOptions{})); err != nil {
		t.Fatal(err)
	}
	waitComplete(t, c, "web", 3)
	mu.Lock()
	started = true
	mu.Unlock()

	if err := into(d)(c.AppsV1().Deployments("default").Get(bg, "web", metav1.GetOptions{})); err != nil {
		t.Fatal(err)
	}
	d.Spec.Template.Spec.Containers[0].Image = "busybox:2"
	if err := into(d)(c.AppsV1().Deployments("default").Update(bg, d, metav1.UpdateOptions{})); err != nil {
		t.Fatal(err)
	}
	waitComplete(t, c, "web", 3)
	hash := controllers.TemplateHash(&d.Spec.Template)
	eventually(t, func() string {
		var l appsv1.ReplicaSetList
		if err := into(&l)(c.AppsV1().ReplicaSets("default").List(bg, metav1.ListOptions{})); err != nil {
			return err.Error()
		}
		for _, rs := range l.Items {
			isNew := rs.Labels[controllers.PodTemplateHashLabel] == hash
			switch {
			case isNew && (*rs.Spec.Replicas != 3 || rs.Annotations[controllers.RevisionAnnotation] != "2"):
				return fmt.Sprintf("new rs %s: replicas %d revision %q", rs.Name, *rs.Spec.Replicas, rs.Annotations[controllers.RevisionAnnotation])
			case !isNew && *rs.Spec.Replicas != 0:
				return fmt.Sprintf("old rs %s still has %d replicas", rs.Name, *rs.Spec.Replicas)
			}
		}
		if len(l.Items) != 2 {
			return fmt.Sprintf("%d replicasets, want 2", len(l.Items))
		}
		for _, p := range listPods(t, c, "default") {
			if p.Spec.Containers[0].Image != "busybox:2" {
				return "old pod " + p.Name + " still there"
			}
		}
		return ""
	})
	mu.Lock()
	defer mu.Unlock()
	if minReady < 3 || maxPods > 4 {
		t.Fatalf("during the rollout: min ready %d (want >= 3), max pods %d (want <= 4)", minReady, maxPods)
	}
	eventually(t, func() string { return findEvent(c, "default", "web", "ScalingReplicaSet") })
}

func waitComplete(t *testing.T, c kubernetes.Interface, name string, n int32) {
	t.Helper()
	eventually(t, func() string {
		var d appsv1.Deployment
		if err := into(&d)(c.AppsV1().Deployments("default").Get(bg, name, metav1.GetOptions{})); err != nil {
			return err.Error()
		}
		s := d.Status
		if s.ObservedGeneration < d.Generation || s.UpdatedReplicas != n || s.Replicas != n || s.AvailableReplicas != n {
			return fmt.Sprintf("generation %d status %+v", d.Generation, s)
		}
		for _, cond := range s.Conditions {
			if cond.Type == appsv1.DeploymentProgressing && cond.Reason == "NewReplicaSetAvailable" {
				return ""
			}
		}
		return fmt.Sprintf("not progressed: %+v", s.Conditions)
	})
}
