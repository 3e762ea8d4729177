package controllers_test

import (
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
)

// holdAndDelete gives an object a finalizer of the test's and deletes it,
// so that it stays, being deleted, for the rest of the test.
func holdAndDelete(t *testing.T, rc rest.Interface, resource, name string) {
	t.Helper()
	hold := map[string]any{"metadata": map[string]any{"finalizers": []string{"example.com/hold"}}}
	if err := rc.Patch(types.MergePatchType).Namespace("default").Resource(resource).Name(name).Body(mustJSON(hold)).Do(bg).Error(); err != nil {
		t.Fatal(err)
	}
	if err := rc.Delete().Namespace("default").Resource(resource).Name(name).Do(bg).Error(); err != nil {
		t.Fatal(err)
	}
}

// stays checks over several controller rounds (resync 200ms) that
// count() stays at want.
func stays(t *testing.T, what string, want int, count func() int) {
	t.Helper()
	for range 6 {
		time.Sleep(200 * time.Millisecond)
		if n := count(); n != want {
			t.Fatalf("%s: %d, want %d (a controller acted for an owner being deleted)", what, n, want)
		}
	}
}

// TestOwnersBeingDeletedCreateNothing: a Job, a ReplicaSet and a
// Deployment that have a deletionTimestamp replace none of their deleted
// children.
func TestOwnersBeingDeletedCreateNothing(t *testing.T) {
	c := start(t)
	podsOf := func(app string) func() int {
		return func() int {
			n := 0
			for _, p := range listPods(t, c, "default") {
				if p.Labels["app"] == app {
					n++
				}
			}
			return n
		}
	}
	deleteAll := func(app string) {
		for _, p := range listPods(t, c, "default") {
			if p.Labels["app"] == app {
				if err := c.CoreV1().Pods("default").Delete(bg, p.Name, delOpts(p.UID)); err != nil {
					t.Fatal(err)
				}
			}
		}
	}

	j := newJob("held-job", 4, 2, 3)
	if err := into(j)(c.BatchV1().Jobs("default").Create(bg, j, metav1.CreateOptions{})); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() string { return want(podsOf("held-job")(), 2, "job pods") })
	holdAndDelete(t, c.BatchV1().RESTClient(), "jobs", "held-job")
	deleteAll("held-job")
	stays(t, "job pods", 0, podsOf("held-job"))

	d := gcDeployment(t, c, "held-deploy", 2)
	rs, _ := gcDependents(t, c, "held-deploy")
	holdAndDelete(t, c.AppsV1().RESTClient(), "replicasets", rs[0].Name)
	deleteAll("held-deploy")
	stays(t, "replicaset pods", 0, podsOf("held-deploy"))

	holdAndDelete(t, c.AppsV1().RESTClient(), "deployments", d.Name)
	release := map[string]any{"metadata": map[string]any{"finalizers": nil}}
	if err := discard(c.AppsV1().ReplicaSets("default").Patch(bg, rs[0].Name, types.MergePatchType, mustJSON(release), metav1.PatchOptions{})); err != nil {
		t.Fatal(err)
	}
	stays(t, "replicasets", 0, func() int {
		var l appsv1.ReplicaSetList
		if err := into(&l)(c.AppsV1().ReplicaSets("default").List(bg, metav1.ListOptions{})); err != nil {
			t.Fatal(err)
		}
		return len(l.Items)
	})
}

func want(got, n int, what string) string {
	if got != n {
		return fmt.Sprintf("%d %s, want %d", got, what, n)
	}
	return ""
}
