package runtime

import (
	"context"
	"fmt"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"testing"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/namespaces"
	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/weirnet/weir/node/runtime/testimage"
	"github.com/weirnet/weir/tests/testutil"
)

// statusHistory keeps every status reported for each pod.
type statusHistory struct {
	mu   sync.Mutex
	pods map[string][]corev1.PodStatus
	at   map[string][]time.Time // when each was reported
}

// record wraps the node's Report; call it before the first Sync.
func (h *statusHistory) record(n *testNode) {
	h.pods, h.at = map[string][]corev1.PodStatus{}, map[string][]time.Time{}
	prev := n.rt.cfg.Report
	n.rt.cfg.Report = func(p PodReport) {
		prev(p)
		h.mu.Lock()
		h.pods[p.Name] = append(h.pods[p.Name], p.Status)
		h.at[p.Name] = append(h.at[p.Name], time.Now())
		h.mu.Unlock()
	}
}

// containers is the reported statuses of one container, in order.
func (h *statusHistory) containers(pod, ctr string) []corev1.ContainerStatus {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []corev1.ContainerStatus
	for _, st := range h.pods[pod] {
		for _, cs := range st.ContainerStatuses {
			if cs.Name == ctr {
				out = append(out, cs)
			}
		}
	}
	return out
}

// checkStartedBeforeReady fails if a report had the container ready but
// not started, or ready in the first report of a running instance
// (readiness is reset when the container (re)starts).
func (h *statusHistory) checkStartedBeforeReady(t *testing.T, pod, ctr string) {
	t.Helper()
	seen := map[int32]bool{}
	for _, cs := range h.containers(pod, ctr) {
		started := cs.Started != nil && *cs.Started
		if cs.Ready && !started {
			t.Errorf("%s/%s reported ready before started: %+v", pod, ctr, cs)
		}
		if cs.State.Running != nil && !seen[cs.RestartCount] {
			seen[cs.RestartCount] = true
			if cs.Ready {
				t.Errorf("%s/%s instance %d was ready before its first readiness probe: %+v", pod, ctr, cs.RestartCount, cs)
			}
		}
	}
}

// probeStatus is a container's status in the latest report of pod.
func (n *testNode) probeStatus(pod, ctr string) (corev1.PodStatus, corev1.ContainerStatus) {
	st := n.rep.get("default/" + pod)
	for _, cs := range st.ContainerStatuses {
		if cs.Name == ctr {
			return st, cs
		}
	}
	return st, corev1.ContainerStatus{}
}

func podReady(st corev1.PodStatus) bool {
	for _, c := range st.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func every1s(p corev1.ProbeHandler, failure int32) *corev1.Probe {
	return &corev1.Probe{ProbeHandler: p, PeriodSeconds: 1, FailureThreshold: failure}
}

func httpProbe(path string, port intstr.IntOrString) corev1.ProbeHandler {
	return corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: port}}
}

func execProbe(cmd ...string) corev1.ProbeHandler {
	return corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: cmd}}
}

// probePods are the pods of TestProbes: readiness by httpGet (one
// container passing after a startup probe, one failing with 404), by exec
// on a file the test removes and creates, a tcpSocket liveness probe on a
// closed port, and a startup probe that never succeeds.
func probePods() []corev1.Pod {
	http := testPod("http", types.UID(uuid.NewString()))
	good := &http.Spec.Containers[0]
	good.Name, good.Ports = "good", []corev1.ContainerPort{{Name: "web", ContainerPort: 8080}}
	good.StartupProbe = every1s(httpProbe("/healthz", intstr.FromString("web")), 30)
	good.ReadinessProbe = every1s(httpProbe("/healthz", intstr.FromString("web")), 1)
	http.Spec.Containers = append(http.Spec.Containers, corev1.Container{Name: "bad", Image: testimage.Name,
		Args: []string{"-http=:8081", "-tcp-echo=:9002", "-udp-echo="}, ReadinessProbe: every1s(httpProbe("/missing", intstr.FromInt32(8081)), 1)})

	exec := testPod("exec", types.UID(uuid.NewString()))
	nobody := int64(65534)
	c := &exec.Spec.Containers[0]
	c.Command, c.Args = []string{"sh", "-c", "touch /tmp/ready; trap 'exit 0' TERM; sleep 1000 & wait"}, nil
	c.SecurityContext = &corev1.SecurityContext{RunAsUser: &nobody}
	c.ReadinessProbe = every1s(execProbe("sh", "-c", "test -f /tmp/ready"), 1)
	// A runc exec can take over the default 1 s on a loaded machine, and a
	// timeout would flip readiness: the toggles checked are the file's.
	c.ReadinessProbe.TimeoutSeconds = 5

	live := testPod("live", types.UID(uuid.NewString()))
	live.Spec.Containers[0].LivenessProbe = every1s(corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(7777)}}, 2)
	live.Spec.Containers[0].ReadinessProbe = every1s(corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(8080)}}, 1)

	start := testPod("start", types.UID(uuid.NewString()))
	start.Spec.Containers[0].StartupProbe = every1s(httpProbe("/healthz", intstr.FromInt32(7777)), 2)
	start.Spec.Containers[0].ReadinessProbe = every1s(httpProbe("/healthz", intstr.FromInt32(8080)), 1)
	delay := testPod("delay", types.UID(uuid.NewString()))
	delay.Spec.Containers[0].ReadinessProbe = every1s(httpProbe("/healthz", intstr.FromInt32(8080)), 1)
	delay.Spec.Containers[0].ReadinessProbe.InitialDelaySeconds = 2
	delay.Spec.Containers[0].ReadinessProbe.SuccessThreshold = 2
	stubborn := testPod("stubborn", types.UID(uuid.NewString()))
	ten, one := int64(10), int64(1)
	stubborn.Spec.TerminationGracePeriodSeconds = &ten
	sc := &stubborn.Spec.Containers[0]
	sc.Command, sc.Args = []string{"sh", "-c", "trap '' TERM; sleep 1000 & wait"}, nil
	sc.LivenessProbe = every1s(execProbe("false"), 1)
	sc.LivenessProbe.TerminationGracePeriodSeconds = &one
	return []corev1.Pod{http, exec, live, start, delay, stubborn}
}

// TestProbes runs the probes against real containers.
func TestProbes(t *testing.T) {
	testutil.RequirePrivileged(t)
	n := newTestNode(t)
	pods := probePods()
	var hist statusHistory
	hist.record(n)
	n.rt.Sync(pods)

	t.Run("httpGet readiness", func(t *testing.T) {
		waitFor(t, "container good ready, bad running", 60*time.Second, func() bool {
			_, good := n.probeStatus("http", "good")
			_, bad := n.probeStatus("http", "bad")
			return good.Ready && bad.State.Running != nil
		})
		st, good := n.probeStatus("http", "good")
		if good.Started == nil || !*good.Started {
			t.Errorf("good: started %v after its startup probe succeeded", good.Started)
		}
		_, bad := n.probeStatus("http", "bad")
		if bad.State.Running == nil || bad.Ready {
			t.Errorf("bad (readiness 404): running %v ready %v; want running and not ready", bad.State.Running != nil, bad.Ready)
		}
		if podReady(st) || !strings.Contains(st.Conditions[3].Message, "[bad]") {
			t.Errorf("pod Ready with an unready container: %+v", st.Conditions)
		}
		hist.checkStartedBeforeReady(t, "http", "good")
		for _, cs := range hist.containers("http", "bad") {
			if cs.Ready {
				t.Fatalf("bad was reported ready: %+v", cs)
			}
		}
	})

	t.Run("exec readiness toggles", func(t *testing.T) {
		ready := func() bool { _, cs := n.probeStatus("exec", "web"); return cs.Ready }
		waitFor(t, "exec pod ready", 60*time.Second, func() bool { return ready() && podReady(n.rep.get("default/exec")) })
		ex := n.probeExecer(t, pods[1].UID, "web")
		bg := namespaces.WithNamespace(context.Background(), "weir-n1")
		if ok, out, _ := ex.run(bg, []string{"id", "-u"}); !ok || out != "65534" {
			t.Errorf("exec runs as %q (ok %v), want the container's user 65534", out, ok)
		}
		if ok, _, _ := ex.run(bg, []string{"rm", "/tmp/ready"}); !ok {
			t.Fatal("rm /tmp/ready failed")
		}
		waitFor(t, "not ready after rm", 20*time.Second, func() bool { return !ready() && !podReady(n.rep.get("default/exec")) })
		if ok, _, _ := ex.run(bg, []string{"touch", "/tmp/ready"}); !ok {
			t.Fatal("touch /tmp/ready failed")
		}
		waitFor(t, "ready again after touch", 20*time.Second, func() bool { return ready() && podReady(n.rep.get("default/exec")) })
		var flips []bool
		for _, cs := range hist.containers("exec", "web") {
			if len(flips) == 0 || flips[len(flips)-1] != cs.Ready {
				flips = append(flips, cs.Ready)
			}
		}
		if fmt.Sprint(flips) != "[false true false true]" {
			t.Errorf("exec pod readiness went %v, want [false true false true]", flips)
		}
		ctx, cancel := context.WithTimeout(bg, time.Second)
		defer cancel()
		begin := time.Now()
		if ok, out, _ := ex.run(ctx, []string{"sleep", "30"}); ok || !strings.Contains(out, "timed out") || time.Since(begin) > 15*time.Second {
			t.Errorf("exec past its timeout: ok %v %q after %v; want a timeout failure", ok, out, time.Since(begin))
		}
	})

	t.Run("tcpSocket liveness restarts", func(t *testing.T) {
		waitFor(t, "liveness restart, ready again", 60*time.Second, func() bool {
			_, cs := n.probeStatus("live", "web")
			return cs.RestartCount >= 1 && cs.Ready
		})
		_, cs := n.probeStatus("live", "web")
		hist.checkStartedBeforeReady(t, "live", "web")
		if last := cs.LastTerminationState.Terminated; last == nil || !strings.Contains(last.Message, "failed liveness probe") {
			t.Errorf("last termination %+v, want one by the liveness probe", last)
		}
	})

	t.Run("startup never succeeds", func(t *testing.T) {
		waitFor(t, "second restart by the startup probe", 60*time.Second, func() bool {
			_, cs := n.probeStatus("start", "web")
			return cs.RestartCount >= 2
		})
		_, cs := n.probeStatus("start", "web")
		if last := cs.LastTerminationState.Terminated; last == nil || !strings.Contains(last.Message, "failed startup probe") {
			t.Errorf("last termination %+v, want one by the startup probe", last)
		}
		hist.mu.Lock()
		defer hist.mu.Unlock()
		for _, st := range hist.pods["start"] {
			if podReady(st) || len(st.ContainerStatuses) != 1 || st.ContainerStatuses[0].Ready || *st.ContainerStatuses[0].Started {
				t.Fatalf("started or ready although the startup probe never succeeded: %+v", st)
			}
		}
	})

	t.Run("initial delay and success threshold", func(t *testing.T) {
		waitFor(t, "delay pod ready", 60*time.Second, func() bool { _, cs := n.probeStatus("delay", "web"); return cs.Ready })
		hist.mu.Lock()
		defer hist.mu.Unlock()
		for i, st := range hist.pods["delay"] {
			cs := st.ContainerStatuses[0]
			if !cs.Ready {
				continue
			}
			// Probes at +2s and +3s: ready after the second success.
			if d := hist.at["delay"][i].Sub(cs.State.Running.StartedAt.Time); d < 2900*time.Millisecond {
				t.Errorf("ready %v after the start, want >= 3s (initialDelaySeconds 2, then 2 successes 1s apart)", d)
			}
			break
		}
	})

	t.Run("liveness kill ignored: SIGKILL after the probe's grace", func(t *testing.T) {
		waitFor(t, "stubborn restarted", 60*time.Second, func() bool { _, cs := n.probeStatus("stubborn", "web"); return cs.RestartCount >= 1 })
		_, cs := n.probeStatus("stubborn", "web")
		last := cs.LastTerminationState.Terminated
		if last == nil || last.ExitCode != 137 || !strings.Contains(last.Message, "failed liveness probe") {
			t.Fatalf("last termination %+v, want SIGKILL (137) after a liveness failure", last)
		}
		// The probe's 1s grace, not the pod's 10s.
		if d := last.FinishedAt.Sub(last.StartedAt.Time); d > 8*time.Second {
			t.Errorf("killed %v after the start, want about 1s (the probe's terminationGracePeriodSeconds)", d)
		}
	})

	n.rt.Sync(nil)
	waitFor(t, "pods removed", 60*time.Second, func() bool { return n.rt.Pods() == 0 })
	buf := make([]byte, 1<<20)
	if stacks := string(buf[:goruntime.Stack(buf, true)]); strings.Contains(stacks, "probeRun") {
		t.Errorf("probe goroutines left after the pods stopped:\n%s", stacks)
	}
}

// probeExecer is the execer the probes use, on a container's task.
func (n *testNode) probeExecer(t *testing.T, uid types.UID, ctr string) *execer {
	client, err := containerd.New(n.sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	ctx := namespaces.WithNamespace(context.Background(), "weir-n1")
	c, err := client.LoadContainer(ctx, containerID(string(uid), ctr))
	if err != nil {
		t.Fatal(err)
	}
	task, err := c.Task(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &execer{task: task, fifoDir: filepath.Join(t.TempDir(), "fifo")}
}
