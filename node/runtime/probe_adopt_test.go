package runtime

import (
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/weirnet/weir/tests/testutil"
)

// TestProbesAfterAdoption: a restarted runtime adopts a ready container
// with startup and readiness probes without reporting it unready, and
// keeps its restart count and start time.
func TestProbesAfterAdoption(t *testing.T) {
	testutil.RequirePrivileged(t)
	n := newTestNode(t)
	pod := testPod("adopt", types.UID(uuid.NewString()))
	c := &pod.Spec.Containers[0]
	c.StartupProbe = every1s(httpProbe("/healthz", intstr.FromInt32(8080)), 30)
	c.ReadinessProbe = every1s(httpProbe("/healthz", intstr.FromInt32(8080)), 1)
	n.rt.Sync([]corev1.Pod{pod})
	readyAfter := func(restarts int32) func() bool {
		return func() bool { _, cs := n.probeStatus("adopt", "web"); return cs.Ready && cs.RestartCount == restarts }
	}
	waitFor(t, "ready", 60*time.Second, readyAfter(0))
	n.killContainer(t, pod.UID, "web")
	waitFor(t, "ready after a restart", 60*time.Second, readyAfter(1))
	pod.Status = n.rep.get("default/adopt")
	_, before := n.probeStatus("adopt", "web")

	n.rt.Close() // detach: the container keeps running
	var mu sync.Mutex
	var got []corev1.PodStatus
	cfg := n.rt.cfg
	cfg.Report = func(p PodReport) { mu.Lock(); got = append(got, p.Status); mu.Unlock() }
	rt2 := adoptingRuntime(t, cfg)
	rt2.Sync([]corev1.Pod{pod})
	time.Sleep(3 * time.Second) // three probe periods
	mu.Lock()
	defer mu.Unlock()
	running := 0
	for _, st := range got {
		if st.Phase == corev1.PodPending { // before adoption; the agent does not send it over a Running pod
			continue
		}
		running++
		cs := st.ContainerStatuses[0]
		if !cs.Ready || !*cs.Started || cs.RestartCount != 1 || cs.State.Running == nil ||
			!cs.State.Running.StartedAt.Equal(&before.State.Running.StartedAt) || !podReady(st) {
			t.Errorf("after adoption: %+v, want ready, started, restartCount 1, started at %v", cs, before.State.Running.StartedAt)
		}
	}
	if running == 0 {
		t.Fatalf("no report of the adopted pod: %+v", got)
	}
}

// adoptingRuntime starts a second runtime with cfg, as a restarted agent:
// it adopts what the first left running; at the end of t it removes every
// pod and closes.
func adoptingRuntime(t *testing.T, cfg Config) *Runtime {
	t.Helper()
	rt, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		rt.Sync(nil)
		waitFor(t, "adopted pod removed", 30*time.Second, func() bool { return rt.Pods() == 0 })
		rt.Close()
	})
	return rt
}
