package client_test

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/weirnet/weir/control/client"
	"github.com/weirnet/weir/control/store"
	"github.com/weirnet/weir/control/store/storetest"
)

func TestE2EMembers(t *testing.T) {
	c := newCluster(t).client
	ctx := ctxT(t)
	ms, err := c.Members(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || ms[0].Name != "m1" || !ms[0].Voter || !ms[0].Leader || ms[0].PeerAddr == "" {
		t.Errorf("members = %+v, want m1 as the voting leader", ms)
	}
	if err := c.RemoveMember(ctx, "nobody"); err == nil {
		t.Error("removing an unknown member: no error")
	}
}

// TestE2ESnapshotRoundTrip saves a snapshot through the API, restores it
// offline into a new data dir, starts a member on it and reads every
// object back through a new API server.
func TestE2ESnapshotRoundTrip(t *testing.T) {
	c := newCluster(t).client
	ctx := ctxT(t)
	ns := client.NamespaceOptions{Namespace: "default"}
	apply(t, c, appManifest, ns)
	apply(t, c, "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {k: v}\n", ns)

	file := filepath.Join(t.TempDir(), "weir.snap")
	info, err := c.SaveSnapshot(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(file)
	if err != nil || st.Size() != info.Size || info.Size == 0 || info.Revision == 0 {
		t.Fatalf("snapshot %+v, file %v %v", info, st, err)
	}

	dir := t.TempDir()
	rcfg := storetest.Config("r1", dir) // writes the cluster's encryption config first, as an operator copies it
	if err := store.Restore(ctx, file, dir, "r1", "127.0.0.1:0"); err != nil {
		t.Fatalf("restore: %v", err)
	}
	restored := newClusterOn(t, storetest.Open(t, rcfg)).client
	for _, kind := range []string{"ns", "svc", "deploy", "cm", "secret"} {
		res, err := c.ResolveResource(ctx, kind)
		if err != nil {
			t.Fatal(err)
		}
		before, err := c.List(ctx, res.GVR(), "", client.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		after, err := restored.List(ctx, res.GVR(), "", client.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(before.Items) != len(after.Items) {
			t.Errorf("%s: %d objects before, %d after restore", kind, len(before.Items), len(after.Items))
			continue
		}
		for i := range before.Items {
			a, b := before.Items[i], after.Items[i]
			if a.GetName() != b.GetName() || a.GetResourceVersion() != b.GetResourceVersion() || a.GetUID() != b.GetUID() {
				t.Errorf("%s %s: restored as %s rv %s (was rv %s)", kind, a.GetName(), b.GetName(), b.GetResourceVersion(), a.GetResourceVersion())
			}
		}
	}
	// The restored member takes writes at revisions after the snapshot's.
	r := apply(t, restored, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: after-restore}\n", ns)
	if rv, _ := strconv.ParseUint(r[0].Object.GetResourceVersion(), 10, 64); rv <= info.Revision {
		t.Errorf("write after restore at revision %d, want > %d", rv, info.Revision)
	}
	cm, _ := c.ResolveResource(ctx, "cm")
	if _, err := c.Get(ctx, cm.GVR(), "default", "after-restore"); !apierrors.IsNotFound(err) {
		t.Errorf("the original cluster sees the restored one's write: %v", err)
	}
}
