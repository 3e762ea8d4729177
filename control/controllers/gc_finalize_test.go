package controllers_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// gcDeployment creates Deployment name of n replicas and waits for its
// ReplicaSet and n pods.
func gcDeployment(t *testing.T, c kubernetes.Interface, name string, n int32) *appsv1.Deployment {
	t.Helper()
	d := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{Kind: "Deployment", APIVersion: "apps/v1"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: appsv1.DeploymentSpec{Replicas: int32p(n), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: podTemplate(name, "busybox")},
	}
	if err := into(d)(c.AppsV1().Deployments("default").Create(bg, d, metav1.CreateOptions{})); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() string {
		rs, pods := gcDependents(t, c, name)
		if len(rs) != 1 || len(pods) != int(n) {
			return fmt.Sprintf("%d replicasets, %d pods; want 1 and %d", len(rs), len(pods), n)
		}
		return ""
	})
	return d
}

// gcDependents lists the ReplicaSets and pods of app name.
func gcDependents(t *testing.T, c kubernetes.Interface, name string) ([]appsv1.ReplicaSet, []corev1.Pod) {
	t.Helper()
	var rl appsv1.ReplicaSetList
	if err := into(&rl)(c.AppsV1().ReplicaSets("default").List(bg, metav1.ListOptions{})); err != nil {
		t.Fatalf("list replicasets: %v", err)
	}
	var rs []appsv1.ReplicaSet
	for _, r := range rl.Items {
		if r.Spec.Template.Labels["app"] == name {
			rs = append(rs, r)
		}
	}
	var pods []corev1.Pod
	for _, p := range listPods(t, c, "default") {
		if p.Labels["app"] == name {
			pods = append(pods, p)
		}
	}
	return rs, pods
}

// TestForegroundDeletion: a Deployment deleted with Foreground stays,
// with a deletionTimestamp, while any of its ReplicaSet's pods exists
// (one is held by a finalizer of the test's); its ReplicaSet is deleted
// in the foreground too; once the hold is released, everything goes and
// the Deployment goes last.
func TestForegroundDeletion(t *testing.T) {
	c := start(t)
	gcDeployment(t, c, "fg", 2)
	_, pods := gcDependents(t, c, "fg")
	held := pods[0]
	hold := map[string]any{"metadata": map[string]any{"finalizers": []string{"example.com/hold"}}}
	if err := discard(c.CoreV1().Pods("default").Patch(bg, held.Name, types.MergePatchType, mustJSON(hold), metav1.PatchOptions{})); err != nil {
		t.Fatal(err)
	}
	var answer appsv1.Deployment
	if err := deleteInto(c.AppsV1().RESTClient(), "deployments", "fg", propagate("", metav1.DeletePropagationForeground), &answer); err != nil {
		t.Fatal(err)
	}
	if answer.DeletionTimestamp == nil || !slices.Contains(answer.Finalizers, "foregroundDeletion") {
		t.Fatalf("DELETE answered deletionTimestamp %v finalizers %v", answer.DeletionTimestamp, answer.Finalizers)
	}
	// The other pod goes; the held one, its ReplicaSet and the Deployment stay.
	eventually(t, func() string {
		rs, pods := gcDependents(t, c, "fg")
		if len(pods) != 1 || pods[0].Name != held.Name || pods[0].DeletionTimestamp == nil {
			return fmt.Sprintf("%d pods; want only %s, being deleted", len(pods), held.Name)
		}
		if len(rs) != 1 || rs[0].DeletionTimestamp == nil || !slices.Contains(rs[0].Finalizers, "foregroundDeletion") {
			return fmt.Sprintf("replicasets %d; want 1 being deleted in the foreground", len(rs))
		}
		return ""
	})
	for range 5 { // the state holds over several GC rounds (resync 200ms)
		time.Sleep(200 * time.Millisecond)
		var d appsv1.Deployment
		if err := into(&d)(c.AppsV1().Deployments("default").Get(bg, "fg", metav1.GetOptions{})); err != nil || d.DeletionTimestamp == nil {
			t.Fatalf("Deployment while a dependent remains: %v, deletionTimestamp %v", err, d.DeletionTimestamp)
		}
		if rs, pods := gcDependents(t, c, "fg"); len(rs) != 1 || len(pods) != 1 {
			t.Fatalf("%d replicasets, %d pods while one pod is held; want 1 and 1 (no pod recreated)", len(rs), len(pods))
		}
	}
	release := map[string]any{"metadata": map[string]any{"finalizers": nil}}
	if err := discard(c.CoreV1().Pods("default").Patch(bg, held.Name, types.MergePatchType, mustJSON(release), metav1.PatchOptions{})); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() string {
		err := into(&appsv1.Deployment{})(c.AppsV1().Deployments("default").Get(bg, "fg", metav1.GetOptions{}))
		if !apierrors.IsNotFound(err) {
			return fmt.Sprintf("Deployment still there (%v)", err)
		}
		// Checked after the Deployment is gone: nothing of it may be left.
		if rs, pods := gcDependents(t, c, "fg"); len(rs)+len(pods) > 0 {
			t.Fatalf("the Deployment went before its dependents: %d replicasets, %d pods left", len(rs), len(pods))
		}
		return ""
	})
}

// TestOrphanDeletion: a Deployment deleted with Orphan goes, its
// ReplicaSet and pods stay, and the ReplicaSet no longer references it.
func TestOrphanDeletion(t *testing.T) {
	c := start(t)
	d := gcDeployment(t, c, "orph", 2)
	if err := c.AppsV1().Deployments("default").Delete(bg, "orph", propagate(d.UID, metav1.DeletePropagationOrphan)); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() string {
		if err := into(&appsv1.Deployment{})(c.AppsV1().Deployments("default").Get(bg, "orph", metav1.GetOptions{})); !apierrors.IsNotFound(err) {
			return fmt.Sprintf("Deployment still there (%v)", err)
		}
		return ""
	})
	for range 5 { // and they stay over several GC rounds
		rs, pods := gcDependents(t, c, "orph")
		if len(rs) != 1 || len(pods) != 2 {
			t.Fatalf("%d replicasets, %d pods after orphaning; want 1 and 2", len(rs), len(pods))
		}
		if refersTo(rs[0].OwnerReferences, d.UID) || rs[0].DeletionTimestamp != nil {
			t.Fatalf("orphaned ReplicaSet: ownerReferences %v, deletionTimestamp %v", rs[0].OwnerReferences, rs[0].DeletionTimestamp)
		}
		for _, p := range pods {
			if !refersTo(p.OwnerReferences, rs[0].UID) {
				t.Fatalf("pod %s lost its ReplicaSet owner: %v", p.Name, p.OwnerReferences)
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestBackgroundDeletion: the default deletes the Deployment at once and
// the garbage collector its ReplicaSet and pods afterwards.
func TestBackgroundDeletion(t *testing.T) {
	c := start(t)
	d := gcDeployment(t, c, "bgd", 2)
	if err := c.AppsV1().Deployments("default").Delete(bg, "bgd", delOpts(d.UID)); err != nil {
		t.Fatal(err)
	}
	if err := into(&appsv1.Deployment{})(c.AppsV1().Deployments("default").Get(bg, "bgd", metav1.GetOptions{})); !apierrors.IsNotFound(err) {
		t.Fatalf("Deployment after a background DELETE: %v, want NotFound at once", err)
	}
	eventually(t, func() string {
		if rs, pods := gcDependents(t, c, "bgd"); len(rs)+len(pods) > 0 {
			return fmt.Sprintf("%d replicasets, %d pods left", len(rs), len(pods))
		}
		return ""
	})
}

func refersTo(refs []metav1.OwnerReference, uid types.UID) bool {
	for _, r := range refs {
		if r.UID == uid {
			return true
		}
	}
	return false
}
