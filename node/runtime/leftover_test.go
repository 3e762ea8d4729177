package runtime

import (
	"context"
	"testing"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/leases"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/oci"
	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/weirnet/weir/node/runtime/testimage"
	"github.com/weirnet/weir/tests/testutil"
)

// TestLeftoverSnapshot: a create interrupted after the snapshot was made
// (the agent stopped) leaves a snapshot without a container; the next
// create of the same container removes it instead of failing forever.
func TestLeftoverSnapshot(t *testing.T) {
	testutil.RequirePrivileged(t)
	n := newTestNode(t)
	pod := testPod("leftover-1", types.UID(uuid.NewString()))
	ctx := namespaces.WithNamespace(context.Background(), "weir-n1")
	client, err := containerd.New(n.sock)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	// The agent's interrupted create left its lease behind: it keeps the
	// snapshot from containerd's garbage collector.
	lease, err := client.LeasesService().Create(ctx, leases.WithRandomID(), leases.WithExpiration(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	lctx := leases.WithLease(ctx, lease.ID)
	img, err := client.GetImage(ctx, testimage.Name)
	if err != nil {
		t.Fatal(err)
	}
	id := containerID(string(pod.UID), "web")
	ctr, err := client.NewContainer(lctx, id, containerd.WithSnapshotter("overlayfs"), containerd.WithNewSnapshot(id, img),
		containerd.WithNewSpec(oci.WithImageConfig(img)))
	if err != nil {
		t.Fatal(err)
	}
	if err := ctr.Delete(lctx); err != nil { // the snapshot stays
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // a garbage collection would run meanwhile
	if _, err := client.SnapshotService("overlayfs").Stat(ctx, id); err != nil {
		t.Fatalf("the leftover snapshot: %v", err)
	}
	n.rt.Sync([]corev1.Pod{pod})
	waitFor(t, "the pod running despite the leftover snapshot", 60*time.Second, func() bool {
		st := n.rep.get("default/leftover-1")
		return st.Phase == corev1.PodRunning && len(st.ContainerStatuses) == 1 && st.ContainerStatuses[0].State.Running != nil
	})
}
