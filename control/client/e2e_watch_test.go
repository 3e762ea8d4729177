package client_test

import (
	"errors"
	"io"
	"strconv"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/weirnet/weir/control/client"
)

// TestE2EWatch lists, opens a watch from the list's revision, writes, and
// expects exactly the writes, in order, with growing revisions.
func TestE2EWatch(t *testing.T) {
	c := newCluster(t).client
	ctx := ctxT(t)
	ns := client.NamespaceOptions{Namespace: "default"}
	res, err := c.ResolveResource(ctx, "configmaps")
	if err != nil {
		t.Fatal(err)
	}
	apply(t, c, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: before}\n", ns)
	list, err := c.List(ctx, res.GVR(), "default", client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := c.Watch(ctx, res.GVR(), "default", client.ListOptions{ResourceVersion: list.GetResourceVersion()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	apply(t, c, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v1}\n", ns)
	apply(t, c, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v2}\n", ns)
	apply(t, c, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other, namespace: kube-system}\n", ns)
	if err := c.Delete(ctx, res.GVR(), "default", "a"); err != nil {
		t.Fatal(err)
	}

	want := []struct{ typ, data string }{{client.Added, "v1"}, {client.Modified, "v2"}, {client.Deleted, "v2"}}
	last, _ := strconv.ParseUint(list.GetResourceVersion(), 10, 64)
	for i := 0; i < len(want); {
		ev, err := w.Next()
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if ev.Type == client.Bookmark {
			continue
		}
		rv, err := strconv.ParseUint(ev.Object.GetResourceVersion(), 10, 64)
		if err != nil || rv <= last {
			t.Errorf("event %d resourceVersion %q after %d: revisions must grow", i, ev.Object.GetResourceVersion(), last)
		}
		last = rv
		k, _, _ := unstructured.NestedString(ev.Object.Object, "data", "k")
		if ev.Type != want[i].typ || ev.Object.GetName() != "a" || k != want[i].data {
			t.Errorf("event %d = %s %s k=%s, want %s a k=%s", i, ev.Type, ev.Object.GetName(), k, want[i].typ, want[i].data)
		}
		i++
	}
	if err := w.Close(); err != nil && !errors.Is(err, io.EOF) {
		t.Logf("close: %v", err)
	}
	if _, err := w.Next(); err == nil {
		t.Error("Next after Close returned an event")
	}
}
