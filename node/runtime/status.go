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

// setStarted records that the container's startup probe succeeded.
func (w *podWorker) setStarted(name string) {
	w.updateIf(name, func(c *ctrState) bool { c.startupOK = true; return true })
}

// setReady records the readiness probe's result; it reports (and says)
// whether readiness changed.
func (w *podWorker) setReady(name string, ready bool) bool {
	return w.updateIf(name, func(c *ctrState) bool {
		changed := c.ready != ready
		c.ready = ready
		return changed
	})
}

// setTerminated records an exit; msg says why the runtime killed it ("" if
// it exited by itself).
func (w *podWorker) setTerminated(name string, code int32, started, finished time.Time, final bool, msg string) {
	reason := "Completed"
	if code != 0 {
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
		cs := corev1.ContainerStatus{Name: n, Image: c.image, ImageID: c.image, Ready: ready, RestartCount: c.restarts,
			State: c.state, LastTerminationState: c.last, Started: &started}
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
	st.Conditions = conditions(st.PodIP != "", len(names) > 0, unready)
	return st
}

func (w *podWorker) containerSpec(name string) *corev1.Container {
	for i := range w.pod.Spec.Containers {
		if w.pod.Spec.Containers[i].Name == name {
			return &w.pod.Spec.Containers[i]
		}
	}
	return nil
}

// readiness is the container's started and ready: started once running
// and past its startup probe; ready once started and passing its
// readiness probe (a probe the container does not have does not count).
func (c *ctrState) readiness(spec *corev1.Container) (started, ready bool) {
	started = c.state.Running != nil && (spec == nil || spec.StartupProbe == nil || c.startupOK)
	ready = started && (spec == nil || spec.ReadinessProbe == nil || c.ready)
	return started, ready
}

func conditions(initialized, any bool, unready []string) []corev1.PodCondition {
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
	return []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue},
		{Type: corev1.PodInitialized, Status: b(initialized)},
		{Type: corev1.ContainersReady, Status: b(ready), Reason: reason, Message: msg},
		{Type: corev1.PodReady, Status: b(ready), Reason: reason, Message: msg}}
}
