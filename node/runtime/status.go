package runtime

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ctrState is what the worker knows of one container.
type ctrState struct {
	name, image, id string
	state           corev1.ContainerState
	last            corev1.ContainerState
	restarts        int32
	final           bool // terminated and not restarted again
	started         bool // has run at least once
	init            bool // an init container (init.go)
	// Probe results for the current instance (reset when it starts):
	// startupOK once its startup probe succeeded, ready while its
	// readiness probe succeeds. Without such a probe they do not count.
	startupOK, ready bool
}

func (w *podWorker) setWaiting(name, reason, msg string) {
	w.update(name, func(c *ctrState) {
		c.state = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}}
	})
}

func (w *podWorker) setRunning(name string, at time.Time, id string) {
	w.update(name, func(c *ctrState) {
		if c.started {
			c.restarts++
		}
		c.started, c.id = true, id
		c.startupOK, c.ready = false, false
		c.state = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(at)}}
	})
}

// setAdopted is setRunning for a container a previous agent started: what
// the API last had of that same instance (restart count, start time,
// started and ready) carries over, so adoption does not flap readiness.
func (w *podWorker) setAdopted(name string, id string) {
	var prev *corev1.ContainerStatus
	for _, css := range [][]corev1.ContainerStatus{w.pod.Status.ContainerStatuses, w.pod.Status.InitContainerStatuses} {
		for i, cs := range css {
			if cs.Name == name && cs.ContainerID == "containerd://"+id && cs.State.Running != nil {
				prev = &css[i]
			}
		}
	}
	if prev == nil {
		w.setRunning(name, time.Now(), id)
		return
	}
	w.update(name, func(c *ctrState) {
		c.started, c.id, c.restarts, c.last = true, id, prev.RestartCount, *prev.LastTerminationState.DeepCopy()
		c.startupOK, c.ready = prev.Started != nil && *prev.Started, prev.Ready
		c.state = corev1.ContainerState{Running: prev.State.Running.DeepCopy()}
	})
}

// setTerminated records an exit; msg says why the runtime killed it ("" if
// it exited by itself); oom: the OOM killer ended it.
func (w *podWorker) setTerminated(name string, code int32, started, finished time.Time, final bool, msg string, oom bool) {
	reason := "Completed"
	switch {
	case oom:
		reason = reasonOOMKilled
	case code != 0:
		reason = "Error"
	}
	w.update(name, func(c *ctrState) {
		term := corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason,
			StartedAt: metav1.NewTime(started), FinishedAt: metav1.NewTime(finished), ContainerID: "containerd://" + c.id, Message: msg}}
		c.final = final
		if final {
			c.state = term
			return
		}
		c.last = term
		c.state = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off restarting the container"}}
	})
}

func (w *podWorker) setSandboxError(err error) {
	w.mu.Lock()
	w.status.Message = err.Error()
	w.status.Reason = "SandboxSetupFailed"
	w.mu.Unlock()
	w.report()
}

func (w *podWorker) update(name string, fn func(*ctrState)) {
	w.updateIf(name, func(c *ctrState) bool { fn(c); return true })
}

// updateIf changes a container's state and reports when fn says it
// changed; it returns that.
func (w *podWorker) updateIf(name string, fn func(*ctrState) bool) bool {
	w.mu.Lock()
	changed := false
	if c := w.ctrs[name]; c != nil {
		changed = fn(c)
	}
	if changed {
		w.status.Message, w.status.Reason = "", ""
	}
	w.mu.Unlock()
	if changed {
		w.report()
	}
	return changed
}

// snapshot builds the pod status: phase, conditions, container and init
// container statuses.
func (w *podWorker) snapshot() corev1.PodStatus {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := *w.status.DeepCopy()
	names := make([]string, 0, len(w.ctrs))
	for n, c := range w.ctrs {
		if !c.init {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	allFinal, anyFailed, anyStarted := len(names) > 0, false, false
	var unready []string
	for _, n := range names {
		c := w.ctrs[n]
		started, ready := c.readiness(w.containerSpec(n))
		if !ready {
			unready = append(unready, n)
		}
		allFinal = allFinal && c.final
		anyStarted = anyStarted || c.started
		if c.final && c.state.Terminated != nil && c.state.Terminated.ExitCode != 0 {
			anyFailed = true
		}
		st.ContainerStatuses = append(st.ContainerStatuses, c.status(ready, started))
	}
	initStatuses, incomplete, initFailed := w.initStatuses()
	st.InitContainerStatuses = initStatuses
	for _, cs := range initStatuses {
		if isSidecar(w.containerSpec(cs.Name)) && !cs.Ready {
			unready = append(unready, cs.Name)
		}
	}
	switch {
	case w.expired:
		st.Phase, st.Reason, st.Message = corev1.PodFailed, reasonDeadlineExceeded, messageDeadlineExceeded
	case initFailed:
		st.Phase = corev1.PodFailed
	case allFinal && anyFailed:
		st.Phase = corev1.PodFailed
	case allFinal:
		st.Phase = corev1.PodSucceeded
	case anyStarted:
		st.Phase = corev1.PodRunning
	}
	st.Conditions = conditions(st.PodIP != "", incomplete, len(names) > 0, unready)
	return st
}

// status is the container's API status.
func (c *ctrState) status(ready, started bool) corev1.ContainerStatus {
	cs := corev1.ContainerStatus{Name: c.name, Image: c.image, ImageID: c.image, Ready: ready, RestartCount: c.restarts,
		State: c.state, LastTerminationState: c.last, Started: &started}
	if c.id != "" {
		cs.ContainerID = "containerd://" + c.id
	}
	return cs
}

func (w *podWorker) containerSpec(name string) *corev1.Container {
	for _, cs := range [][]corev1.Container{w.pod.Spec.Containers, w.pod.Spec.InitContainers} {
		for i := range cs {
			if cs[i].Name == name {
				return &cs[i]
			}
		}
	}
	return nil
}

// conditions: Initialized once the sandbox is up and every init container
// completed (incomplete lists the others, as the kubelet does); Ready and
// ContainersReady once every container is.
func conditions(sandbox bool, incomplete []string, any bool, unready []string) []corev1.PodCondition {
	b := func(v bool) corev1.ConditionStatus {
		if v {
			return corev1.ConditionTrue
		}
		return corev1.ConditionFalse
	}
	ready := any && len(unready) == 0
	var reason, msg string
	if len(unready) > 0 {
		reason, msg = "ContainersNotReady", fmt.Sprintf("containers with unready status: [%s]", strings.Join(unready, " "))
	}
	initialized := corev1.PodCondition{Type: corev1.PodInitialized, Status: b(sandbox && len(incomplete) == 0)}
	if len(incomplete) > 0 {
		initialized.Reason = "ContainersNotInitialized"
		initialized.Message = fmt.Sprintf("containers with incomplete status: [%s]", strings.Join(incomplete, " "))
	}
	return []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}, initialized,
		{Type: corev1.ContainersReady, Status: b(ready), Reason: reason, Message: msg},
		{Type: corev1.PodReady, Status: b(ready), Reason: reason, Message: msg}}
}

// startedAt is when the container's running instance started.
func (w *podWorker) startedAt(name string) time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	if c := w.ctrs[name]; c != nil && c.state.Running != nil {
		return c.state.Running.StartedAt.Time
	}
	return time.Now()
}
