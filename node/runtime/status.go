package runtime

import (
	"sort"
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
		c.state = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(at)}}
	})
}

func (w *podWorker) setTerminated(name string, code int32, started, finished time.Time, final bool) {
	reason := "Completed"
	if code != 0 {
		reason = "Error"
	}
	w.update(name, func(c *ctrState) {
		term := corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason,
			StartedAt: metav1.NewTime(started), FinishedAt: metav1.NewTime(finished), ContainerID: "containerd://" + c.id}}
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
	w.mu.Lock()
	if c := w.ctrs[name]; c != nil {
		fn(c)
	}
	w.status.Message, w.status.Reason = "", ""
	w.mu.Unlock()
	w.report()
}

// snapshot builds the pod status: phase, conditions, container statuses.
func (w *podWorker) snapshot() corev1.PodStatus {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := *w.status.DeepCopy()
	names := make([]string, 0, len(w.ctrs))
	for n := range w.ctrs {
		names = append(names, n)
	}
	sort.Strings(names)
	allReady, allFinal, anyFailed, anyStarted := len(names) > 0, len(names) > 0, false, false
	for _, n := range names {
		c := w.ctrs[n]
		ready := c.state.Running != nil
		allReady = allReady && ready
		allFinal = allFinal && c.final
		anyStarted = anyStarted || c.started
		if c.final && c.state.Terminated != nil && c.state.Terminated.ExitCode != 0 {
			anyFailed = true
		}
		cs := corev1.ContainerStatus{Name: n, Image: c.image, ImageID: c.image, Ready: ready, RestartCount: c.restarts,
			State: c.state, LastTerminationState: c.last, Started: &ready}
		if c.id != "" {
			cs.ContainerID = "containerd://" + c.id
		}
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
	}
	switch {
	case allFinal && anyFailed:
		st.Phase = corev1.PodFailed
	case allFinal:
		st.Phase = corev1.PodSucceeded
	case anyStarted:
		st.Phase = corev1.PodRunning
	}
	st.Conditions = conditions(st.PodIP != "", allReady)
	return st
}

func conditions(initialized, ready bool) []corev1.PodCondition {
	b := func(v bool) corev1.ConditionStatus {
		if v {
			return corev1.ConditionTrue
		}
		return corev1.ConditionFalse
	}
	return []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue},
		{Type: corev1.PodInitialized, Status: b(initialized)}, {Type: corev1.ContainersReady, Status: b(ready)},
		{Type: corev1.PodReady, Status: b(ready)}}
}
