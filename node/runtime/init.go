package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/errdefs"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Init containers, as the kubelet runs them: in order, each to successful
// completion, before any app container. One that fails restarts (with the
// restart back-off) unless the pod's restartPolicy is Never, which fails
// the pod; the pod's Always counts as OnFailure for them. Meanwhile the
// pod is Pending, Initialized is false and every container still waits
// with reason PodInitializing.
//
// A completed init container is recorded in the pod's directory
// (initDoneFile), so an agent that restarts and adopts the pod goes on
// where it was; one that exited 0 while no agent watched is found by its
// containerd task.

// initDoneFile, in the pod dir, lists the init containers that completed.
const initDoneFile = "init-completed"

// reasonPodInitializing is the waiting reason of every container of a pod
// with init containers until it is created.
const reasonPodInitializing = "PodInitializing"

// runInit runs the init containers; false when the pod stopped, the
// runtime detached, or an init container failed for good.
func (w *podWorker) runInit(ctx context.Context, log *slog.Logger) bool {
	done := readInitDone(w.sb)
	for i := range w.pod.Spec.InitContainers {
		c := &w.pod.Spec.InitContainers[i]
		clog := log.With("container", c.Name, "init", true)
		if isSidecar(c) {
			if !w.startSidecar(ctx, c, clog) {
				return false
			}
			continue
		}
		if done[c.Name] {
			w.setCompleted(c.Name, nil)
			continue
		}
		if st, ok := w.exitedWhileAway(ctx, c); ok {
			clog.Info("init container completed while the agent was away")
			w.setCompleted(c.Name, &st)
			if err := recordInitDone(w.sb, c.Name); err != nil {
				clog.Warn("record init container completion", "error", err)
			}
			continue
		}
		w.containerLoop(ctx, c, clog)
		if !w.completed(c.Name) {
			return false
		}
		if err := recordInitDone(w.sb, c.Name); err != nil {
			clog.Warn("record init container completion", "error", err)
		}
	}
	w.mu.Lock()
	w.initialized = true
	w.mu.Unlock()
	return true
}

// restartPolicy is the policy c restarts by: the pod's, except that init
// containers restart only after a failure.
func (w *podWorker) restartPolicy(c *corev1.Container) corev1.RestartPolicy {
	if isSidecar(c) {
		return corev1.RestartPolicyAlways
	}
	policy := w.pod.Spec.RestartPolicy
	if policy != corev1.RestartPolicyNever && w.isInit(c.Name) {
		return corev1.RestartPolicyOnFailure
	}
	return policy
}

func (w *podWorker) isInit(name string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.ctrs[name] != nil && w.ctrs[name].init
}

// completed says the container exited 0 and is not run again.
func (w *podWorker) completed(name string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	c := w.ctrs[name]
	return c != nil && c.final && c.state.Terminated != nil && c.state.Terminated.ExitCode == 0
}

// setCompleted marks an init container completed by an earlier agent:
// with the task's exit (st) when containerd still had it, else with what
// the API last had of it.
func (w *podWorker) setCompleted(name string, st *containerd.Status) {
	var prev *corev1.ContainerStatus
	for i, cs := range w.pod.Status.InitContainerStatuses {
		if cs.Name == name {
			prev = &w.pod.Status.InitContainerStatuses[i]
		}
	}
	w.update(name, func(c *ctrState) {
		term := &corev1.ContainerStateTerminated{Reason: "Completed"}
		if prev != nil {
			c.restarts, c.last = prev.RestartCount, *prev.LastTerminationState.DeepCopy()
			c.id = strings.TrimPrefix(prev.ContainerID, "containerd://")
			switch {
			case prev.State.Terminated != nil:
				term = prev.State.Terminated.DeepCopy()
			case prev.State.Running != nil:
				term.StartedAt = prev.State.Running.StartedAt
			}
		}
		if st != nil {
			term.ExitCode, term.FinishedAt = 0, metav1.NewTime(st.ExitTime)
		}
		if c.id != "" {
			term.ContainerID = "containerd://" + c.id
		}
		c.started, c.final = true, true
		c.state = corev1.ContainerState{Terminated: term}
	})
}

// exitedWhileAway finds an init container whose task exited 0 while no
// agent watched it (the task is deleted then, as after any exit).
func (w *podWorker) exitedWhileAway(ctx context.Context, c *corev1.Container) (containerd.Status, bool) {
	ctr, err := w.r.client.LoadContainer(ctx, containerID(w.sb.id, c.Name))
	if err != nil {
		return containerd.Status{}, false
	}
	task, err := ctr.Task(ctx, nil)
	if err != nil {
		return containerd.Status{}, false
	}
	st, err := task.Status(ctx)
	if err != nil || st.Status != containerd.Stopped || st.ExitStatus != 0 {
		return containerd.Status{}, false
	}
	if _, err := task.Delete(ctx); err != nil && !errdefs.IsNotFound(err) {
		return containerd.Status{}, false
	}
	return st, true
}

// initStatuses are the init containers' statuses in spec order, those not
// (yet) completed, and whether one failed for good (w.mu held).
func (w *podWorker) initStatuses() (out []corev1.ContainerStatus, incomplete []string, failed bool) {
	for i := range w.pod.Spec.InitContainers {
		spec := &w.pod.Spec.InitContainers[i]
		c := w.ctrs[spec.Name]
		if c == nil {
			continue
		}
		started, ready := c.readiness(spec)
		if isSidecar(spec) { // initialized once started; ready by its readiness
			if !started && !w.initialized {
				incomplete = append(incomplete, spec.Name)
			}
			out = append(out, c.status(ready, started))
			continue
		}
		done := c.state.Terminated != nil && c.state.Terminated.ExitCode == 0
		if !done {
			incomplete = append(incomplete, spec.Name)
		}
		if c.final && !done {
			failed = true
		}
		out = append(out, c.status(done, started))
	}
	return out, incomplete, failed
}

func readInitDone(s *sandbox) map[string]bool {
	b, err := os.ReadFile(filepath.Join(s.dir, initDoneFile))
	if err != nil {
		return nil
	}
	done := map[string]bool{}
	for _, n := range strings.Fields(string(b)) {
		done[n] = true
	}
	return done
}

// recordInitDone adds name to the pod's initDoneFile (replaced atomically).
func recordInitDone(s *sandbox, name string) error {
	done := readInitDone(s)
	if done[name] {
		return nil
	}
	var b strings.Builder
	for n := range done {
		b.WriteString(n + "\n")
	}
	b.WriteString(name + "\n")
	path := filepath.Join(s.dir, initDoneFile)
	tmp := fmt.Sprintf("%s.%d.tmp", path, time.Now().UnixNano())
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return errors.Join(err, os.Remove(tmp))
	}
	return nil
}
