package runtime

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/weirnet/weir/tests/testutil"
)

// shPod is a pod of the test image whose containers run shell scripts,
// with an emptyDir "work" mounted at /work in each.
func shPod(name string, init []corev1.Container, ctrs ...corev1.Container) corev1.Pod {
	pod := testPod(name, types.UID(uuid.NewString()))
	img := pod.Spec.Containers[0].Image
	pod.Spec.Volumes = []corev1.Volume{{Name: "work", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	mount := []corev1.VolumeMount{{Name: "work", MountPath: "/work"}}
	for _, cs := range [][]corev1.Container{init, ctrs} {
		for i := range cs {
			cs[i].Image, cs[i].VolumeMounts = img, mount
		}
	}
	pod.Spec.InitContainers, pod.Spec.Containers = init, ctrs
	return pod
}

func sh(name, script string) corev1.Container {
	return corev1.Container{Name: name, Command: []string{"/bin/sh", "-c", script}}
}

const forever = `while true; do sleep 1; done`

func (n *testNode) execOut(t *testing.T, rt *Runtime, pod, ctr string, cmd ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errb testutil.SyncBuffer
	code, err := rt.Exec(ctx, "default", pod, ctr, cmd, ExecOptions{Stdout: &out, Stderr: &errb})
	if err != nil {
		return -1, err.Error()
	}
	return code, out.String() + errb.String()
}

func condition(st corev1.PodStatus, typ corev1.PodConditionType) corev1.PodCondition {
	for _, c := range st.Conditions {
		if c.Type == typ {
			return c
		}
	}
	return corev1.PodCondition{}
}

// TestInitContainers: init containers run in order, each to completion,
// before the app container (which waits with PodInitializing meanwhile,
// the pod Pending and not Initialized); a failing one blocks the app and
// is retried with its restart count rising (restartPolicy Always), or
// fails the pod (Never). An agent restart adopts the running pod without
// running its init containers again.
func TestInitContainers(t *testing.T) {
	testutil.RequirePrivileged(t)
	n := newTestNode(t)
	order := shPod("init-order", []corev1.Container{
		sh("first", `sleep 2; printf '1 ' >> /work/seq`),
		sh("second", `printf '2' >> /work/seq`),
	}, sh("app", `cp /work/seq /work/seen; `+forever))
	failing := shPod("init-fail", []corev1.Container{sh("setup", `echo nope; exit 3`)}, sh("app", forever))
	never := shPod("init-never", []corev1.Container{sh("setup", `exit 4`)}, sh("app", forever))
	never.Spec.RestartPolicy = corev1.RestartPolicyNever
	pods := []corev1.Pod{order, failing, never}
	n.rt.Sync(pods)

	// While "first" runs: Pending, Initialized false naming both, the app
	// waiting with PodInitializing.
	waitFor(t, "first init container running", 60*time.Second, func() bool {
		st := n.rep.get("default/init-order")
		return len(st.InitContainerStatuses) == 2 && st.InitContainerStatuses[0].State.Running != nil
	})
	st := n.rep.get("default/init-order")
	if c := condition(st, corev1.PodInitialized); st.Phase != corev1.PodPending || c.Status != corev1.ConditionFalse ||
		c.Reason != "ContainersNotInitialized" || c.Message != "containers with incomplete status: [first second]" {
		t.Errorf("during init: phase %s, Initialized %+v", st.Phase, c)
	}
	if w := st.ContainerStatuses[0].State.Waiting; w == nil || w.Reason != "PodInitializing" {
		t.Errorf("app during init: %+v, want waiting PodInitializing", st.ContainerStatuses[0].State)
	}
	if w := st.InitContainerStatuses[1].State.Waiting; w == nil || w.Reason != "PodInitializing" {
		t.Errorf("second init container during the first: %+v, want waiting PodInitializing", st.InitContainerStatuses[1].State)
	}

	waitFor(t, "init-order running", 60*time.Second, func() bool {
		st := n.rep.get("default/init-order")
		return st.Phase == corev1.PodRunning && len(st.ContainerStatuses) == 1 && st.ContainerStatuses[0].Ready
	})
	st = n.rep.get("default/init-order")
	for i, cs := range st.InitContainerStatuses {
		if tm := cs.State.Terminated; tm == nil || tm.ExitCode != 0 || tm.Reason != "Completed" || !cs.Ready || cs.RestartCount != 0 ||
			!strings.HasPrefix(cs.ContainerID, "containerd://") {
			t.Errorf("init container %d after init: %+v", i, cs)
		}
	}
	if c := condition(st, corev1.PodInitialized); c.Status != corev1.ConditionTrue {
		t.Errorf("Initialized %+v, want True", c)
	}
	if w := n.rep.waiting["default/init-order/app"]; len(w) == 0 || w[0] != "PodInitializing" {
		t.Errorf("app waiting reasons %v, want PodInitializing first", w)
	}
	if code, out := n.execOut(t, n.rt, "init-order", "app", "cat", "/work/seen"); code != 0 || out != "1 2" {
		t.Errorf("the app saw %d %q, want %q", code, out, "1 2")
	}
	// logs of an init container
	var logs testutil.SyncBuffer
	if err := n.rt.Logs(context.Background(), "default", "init-fail", "setup", LogOptions{}, &logs); err != nil {
		t.Errorf("logs of an init container: %v", err)
	}

	// A failing init container (restartPolicy Always) is retried; the app
	// never starts.
	waitFor(t, "setup retried", 60*time.Second, func() bool {
		st := n.rep.get("default/init-fail")
		return len(st.InitContainerStatuses) == 1 && st.InitContainerStatuses[0].RestartCount >= 2
	})
	st = n.rep.get("default/init-fail")
	ics := st.InitContainerStatuses[0]
	if lt := ics.LastTerminationState.Terminated; lt == nil || lt.ExitCode != 3 || lt.Reason != "Error" {
		t.Errorf("setup's last state %+v, want terminated with 3", ics.LastTerminationState)
	}
	if st.Phase != corev1.PodPending || st.ContainerStatuses[0].State.Waiting == nil || st.ContainerStatuses[0].RestartCount != 0 {
		t.Errorf("init-fail: phase %s, app %+v; want Pending, app waiting", st.Phase, st.ContainerStatuses[0])
	}

	// Never: the pod fails, the app never ran.
	waitFor(t, "init-never failed", 60*time.Second, func() bool { return n.rep.get("default/init-never").Phase == corev1.PodFailed })
	st = n.rep.get("default/init-never")
	if tm := st.InitContainerStatuses[0].State.Terminated; tm == nil || tm.ExitCode != 4 || st.InitContainerStatuses[0].RestartCount != 0 {
		t.Errorf("init-never's setup: %+v", st.InitContainerStatuses[0])
	}
	if w := st.ContainerStatuses[0].State.Waiting; w == nil || w.Reason != "PodInitializing" {
		t.Errorf("init-never's app: %+v, want waiting PodInitializing", st.ContainerStatuses[0].State)
	}

	// Agent restart: the pod is adopted, its init containers not run again.
	n.rt.Close()
	cfg := n.rt.cfg
	rep := &reports{last: map[string]corev1.PodStatus{}, removed: map[string]types.UID{}, waiting: map[string][]string{}}
	cfg.Report = rep.report
	rt2 := adoptingRuntime(t, cfg)
	order.Status = n.rep.get("default/init-order")
	rt2.Sync([]corev1.Pod{order})
	waitFor(t, "adopted pod running", 60*time.Second, func() bool {
		st := rep.get("default/init-order")
		return st.Phase == corev1.PodRunning && len(st.ContainerStatuses) == 1 && st.ContainerStatuses[0].Ready
	})
	time.Sleep(3 * time.Second) // a re-run "first" would have appended by now
	if code, out := n.execOut(t, rt2, "init-order", "app", "cat", "/work/seq"); code != 0 || out != "1 2" {
		t.Errorf("after adoption /work/seq is %d %q, want %q (init containers ran again?)", code, out, "1 2")
	}
	st = rep.get("default/init-order")
	for i, cs := range st.InitContainerStatuses {
		if tm := cs.State.Terminated; tm == nil || tm.ExitCode != 0 || !cs.Ready {
			t.Errorf("adopted init container %d: %+v", i, cs)
		}
	}
	if c := condition(st, corev1.PodInitialized); c.Status != corev1.ConditionTrue {
		t.Errorf("adopted: Initialized %+v", c)
	}
}

// TestLifecycleHooks: postStart runs right after the start (the app sees
// its file); preStop runs before SIGTERM, and a preStop sleep delays it;
// a failed postStart (httpGet to a closed port) kills the container,
// which is restarted.
func TestLifecycleHooks(t *testing.T) {
	testutil.RequirePrivileged(t)
	n := newTestNode(t)
	evs := &eventLog{}
	n.rt.cfg.Event = dropRepeats(evs.add) // set before the first Sync: no worker runs yet
	main := sh("main", `trap 'echo main-term >> /work/order; sleep 3; exit 0' TERM; while true; do sleep 0.1; done`)
	main.Lifecycle = &corev1.Lifecycle{
		PostStart: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"/bin/sh", "-c", "echo started > /work/poststart"}}},
		PreStop:   &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"/bin/sh", "-c", "echo main-prestop >> /work/order"}}},
	}
	sleeper := sh("sleeper", `trap 'echo sleeper-term >> /work/order; exit 0' TERM; while true; do sleep 0.1; done`)
	sleeper.Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: 2}}}
	hooks := shPod("hooks", nil, main, sleeper)
	bad := sh("bad", forever)
	bad.Lifecycle = &corev1.Lifecycle{PostStart: &corev1.LifecycleHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/started", Port: intstr.FromInt32(9)}}}
	badPod := shPod("hook-fail", nil, bad)
	n.rt.Sync([]corev1.Pod{hooks, badPod})

	waitFor(t, "hooks running", 60*time.Second, func() bool {
		st := n.rep.get("default/hooks")
		return st.Phase == corev1.PodRunning && len(st.ContainerStatuses) == 2 && st.ContainerStatuses[0].Ready && st.ContainerStatuses[1].Ready
	})
	if code, out := n.execOut(t, n.rt, "hooks", "main", "cat", "/work/poststart"); code != 0 || out != "started\n" {
		t.Errorf("postStart's file: %d %q", code, out)
	}

	// a failed postStart kills and restarts the container
	waitFor(t, "hook-fail restarted", 60*time.Second, func() bool {
		st := n.rep.get("default/hook-fail")
		return len(st.ContainerStatuses) == 1 && st.ContainerStatuses[0].RestartCount >= 1
	})
	cs := n.rep.get("default/hook-fail").ContainerStatuses[0]
	if lt := cs.LastTerminationState.Terminated; lt == nil || !strings.Contains(lt.Message, `HTTP lifecycle hook (/started) for Container "bad"`) {
		t.Errorf("hook-fail's last state %+v", cs.LastTerminationState)
	}
	if _, ok := evs.find("hook-fail", EventFailedPostStartHook, `HTTP lifecycle hook (/started) for Container "bad" in Pod "hook-fail_default(`); !ok {
		t.Errorf("no FailedPostStartHook event:\n%s", evs.dump("hook-fail"))
	}
	if _, ok := evs.find("hook-fail", EventKilling, EventFailedPostStartHook); !ok {
		t.Errorf("no Killing FailedPostStartHook event:\n%s", evs.dump("hook-fail"))
	}

	// Delete: preStop before SIGTERM, a preStop sleep delays SIGTERM.
	sb := n.rt.newSandbox(&hooks)
	orderFile := filepath.Join(emptyDirPath(sb, "work"), "order")
	deleted := time.Now()
	n.rt.Sync([]corev1.Pod{badPod})
	var lines []string
	var sleeperTerm time.Duration
	waitFor(t, "sleeper's SIGTERM", 15*time.Second, func() bool {
		b, _ := os.ReadFile(orderFile)
		lines = strings.Fields(string(b))
		if strings.Contains(string(b), "sleeper-term") {
			sleeperTerm = time.Since(deleted)
			return true
		}
		return false
	})
	if len(lines) < 2 || lines[0] != "main-prestop" || lines[1] != "main-term" {
		t.Errorf("order of events in the pod: %q, want main-prestop, main-term first", lines)
	}
	if sleeperTerm < 2*time.Second {
		t.Errorf("the sleeper got SIGTERM %v after the delete, want after its 2s preStop sleep", sleeperTerm)
	}
	waitFor(t, "hooks removed", 30*time.Second, func() bool { return n.rep.removedUID("default/hooks") == hooks.UID })
}

// TestActiveDeadline: past activeDeadlineSeconds the pod is Failed with
// reason DeadlineExceeded and its container stopped and not restarted;
// the pod is reported removed only once deleted.
func TestActiveDeadline(t *testing.T) {
	testutil.RequirePrivileged(t)
	n := newTestNode(t)
	pod := shPod("deadline", nil, sh("app", forever))
	three := int64(3)
	pod.Spec.ActiveDeadlineSeconds = &three
	n.rt.Sync([]corev1.Pod{pod})
	waitFor(t, "deadline pod running", 60*time.Second, func() bool { return n.rep.get("default/deadline").Phase == corev1.PodRunning })
	waitFor(t, "deadline pod failed", 30*time.Second, func() bool { return n.rep.get("default/deadline").Phase == corev1.PodFailed })
	st := n.rep.get("default/deadline")
	if st.Reason != "DeadlineExceeded" || st.Message != "Pod was active on the node longer than the specified deadline" {
		t.Errorf("reason %q message %q", st.Reason, st.Message)
	}
	if at := time.Since(st.StartTime.Time); at < 3*time.Second {
		t.Errorf("failed %v after the start time, want after 3s", at)
	}
	waitFor(t, "container stopped", 30*time.Second, func() bool {
		st := n.rep.get("default/deadline")
		return len(st.ContainerStatuses) == 1 && st.ContainerStatuses[0].State.Terminated != nil
	})
	time.Sleep(time.Second)
	st = n.rep.get("default/deadline")
	if cs := st.ContainerStatuses[0]; cs.RestartCount != 0 || cs.State.Terminated == nil || st.Phase != corev1.PodFailed {
		t.Errorf("after the deadline: phase %s, container %+v", st.Phase, cs)
	}
	if n.rep.removedUID("default/deadline") != "" {
		t.Error("the pod was reported removed before its deletion")
	}
	now := metav1.Now()
	pod.DeletionTimestamp = &now
	n.rt.Sync([]corev1.Pod{pod})
	waitFor(t, "deadline pod removed", 30*time.Second, func() bool { return n.rep.removedUID("default/deadline") == pod.UID })
}

// TestSidecar: an init container with restartPolicy Always starts in its
// turn and the next init container waits until it is started (its startup
// probe passed); it runs beside the app, restarts whatever the pod's
// restartPolicy (Never here) and counts for readiness; once the app
// completed it is stopped and the pod Succeeds.
func TestSidecar(t *testing.T) {
	testutil.RequirePrivileged(t)
	n := newTestNode(t)
	proxy := sh("proxy", `sleep 1; echo up > /work/proxy; trap 'echo proxy-term >> /work/order; exit 0' TERM; while true; do sleep 0.1; done`)
	always := corev1.ContainerRestartPolicyAlways
	proxy.RestartPolicy = &always
	proxy.StartupProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"/bin/sh", "-c", "test -f /work/proxy"}}},
		PeriodSeconds: 1, FailureThreshold: 30}
	pod := shPod("sidecar", []corev1.Container{proxy, sh("after", `test -f /work/proxy`)},
		sh("main", `sleep 10; echo main-done >> /work/order`))
	pod.Spec.RestartPolicy = corev1.RestartPolicyNever
	// on deletion the sidecar is stopped after the app container
	side := sh("side", `trap 'echo side-term >> /work/order; exit 0' TERM; while true; do sleep 0.1; done`)
	side.RestartPolicy = &always
	del := shPod("sidecar-del", []corev1.Container{side}, sh("app", `trap 'sleep 1; echo app-term >> /work/order; exit 0' TERM; while true; do sleep 0.1; done`))
	n.rt.Sync([]corev1.Pod{pod, del})

	waitFor(t, "main running beside the sidecar", 60*time.Second, func() bool {
		st := n.rep.get("default/sidecar")
		return st.Phase == corev1.PodRunning && len(st.ContainerStatuses) == 1 && st.ContainerStatuses[0].State.Running != nil
	})
	st := n.rep.get("default/sidecar")
	if len(st.InitContainerStatuses) != 2 {
		t.Fatalf("init container statuses %+v", st.InitContainerStatuses)
	}
	if p := st.InitContainerStatuses[0]; p.State.Running == nil || p.Started == nil || !*p.Started || !p.Ready {
		t.Errorf("sidecar while main runs: %+v", p)
	}
	if a := st.InitContainerStatuses[1]; a.State.Terminated == nil || a.State.Terminated.ExitCode != 0 {
		t.Errorf("the init container after the sidecar: %+v (did it start before the sidecar was started?)", a)
	}
	if c := condition(st, corev1.PodInitialized); c.Status != corev1.ConditionTrue {
		t.Errorf("Initialized %+v", c)
	}

	// the sidecar restarts though the pod's restartPolicy is Never
	n.killContainer(t, pod.UID, "proxy")
	waitFor(t, "sidecar restarted", 30*time.Second, func() bool {
		st := n.rep.get("default/sidecar")
		return len(st.InitContainerStatuses) == 2 && st.InitContainerStatuses[0].RestartCount == 1 && st.InitContainerStatuses[0].State.Running != nil
	})

	// main completes: the sidecar is stopped after it, the pod Succeeds
	orderFile := filepath.Join(emptyDirPath(n.rt.newSandbox(&pod), "work"), "order")
	var order []string
	waitFor(t, "sidecar stopped after main", 30*time.Second, func() bool {
		b, _ := os.ReadFile(orderFile)
		order = strings.Fields(string(b))
		return strings.Contains(string(b), "proxy-term")
	})
	if len(order) != 2 || order[0] != "main-done" {
		t.Errorf("order %q, want main-done before proxy-term", order)
	}
	waitFor(t, "pod succeeded", 30*time.Second, func() bool {
		st := n.rep.get("default/sidecar")
		return st.Phase == corev1.PodSucceeded && st.InitContainerStatuses[0].State.Terminated != nil
	})

	waitFor(t, "sidecar-del running", 60*time.Second, func() bool {
		st := n.rep.get("default/sidecar-del")
		return st.Phase == corev1.PodRunning && len(st.ContainerStatuses) == 1 && st.ContainerStatuses[0].Ready &&
			condition(st, corev1.PodReady).Status == corev1.ConditionTrue
	})
	delFile := filepath.Join(emptyDirPath(n.rt.newSandbox(&del), "work"), "order")
	now := metav1.Now()
	del.DeletionTimestamp = &now
	n.rt.Sync([]corev1.Pod{del})
	waitFor(t, "sidecar stopped after the app", 30*time.Second, func() bool {
		b, _ := os.ReadFile(delFile)
		order = strings.Fields(string(b))
		return strings.Contains(string(b), "side-term")
	})
	if len(order) != 2 || order[0] != "app-term" {
		t.Errorf("order on deletion %q, want app-term before side-term", order)
	}
	waitFor(t, "sidecar-del removed", 30*time.Second, func() bool { return n.rep.removedUID("default/sidecar-del") == del.UID })
}
