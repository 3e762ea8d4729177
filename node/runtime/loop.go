package runtime

import (
	"context"
	"errors"
	"log/slog"
	"syscall"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/errdefs"
	corev1 "k8s.io/api/core/v1"
)

// containerLoop runs one container until the pod stops or its restart
// policy says it is done.
func (w *podWorker) containerLoop(ctx context.Context, c *corev1.Container, log *slog.Logger) {
	delay := w.r.cfg.BackoffBase
	immediate := true // the first restart (after a long run too) waits for nothing, as the kubelet's
	for attempt := 0; !w.stoppingOf(c) && ctx.Err() == nil; attempt++ {
		task, adopted, err := w.taskFor(ctx, c, attempt == 0)
		if err != nil && (w.stoppingOf(c) || ctx.Err() != nil) {
			return
		}
		if ie := (*imageError)(nil); errors.As(err, &ie) {
			if !w.imageFailed(ctx, c, ie, delay, log) {
				return
			}
			delay = min(2*delay, w.r.cfg.BackoffMax)
			continue
		}
		if ce := (*configError)(nil); errors.As(err, &ce) {
			// the kubelet's wording; retried after the back-off (a
			// ConfigMap or Secret may be created meanwhile)
			w.setWaiting(c.Name, reasonCreateContainerConfigError, ce.Error())
			w.containerError(c, ce)
			if !w.sleep(ctx, delay) {
				return
			}
			delay = min(2*delay, w.r.cfg.BackoffMax)
			continue
		}
		if err != nil {
			log.Warn("create container", "error", err)
			w.setWaiting(c.Name, "CreateContainerError", err.Error())
			w.containerError(c, err)
			if !w.sleepOf(ctx, c, delay) {
				return
			}
			delay = min(2*delay, w.r.cfg.BackoffMax)
			continue
		}
		if !adopted {
			w.normal(EventCreated, c.Name, "Created container %s", c.Name)
		}
		exitCh, err := task.Wait(ctx)
		if err == nil && !adopted {
			err = task.Start(ctx)
		}
		if err != nil {
			log.Warn("start container", "error", err)
			w.setWaiting(c.Name, "RunContainerError", err.Error())
			w.containerError(c, err)
			w.r.removeContainer(context.WithoutCancel(ctx), containerID(w.sb.id, c.Name))
			if !w.sleepOf(ctx, c, delay) {
				return
			}
			delay = min(2*delay, w.r.cfg.BackoffMax)
			continue
		}
		started, restart := w.runInstance(ctx, c, task, exitCh, adopted, log)
		if !restart {
			return
		}
		if time.Since(started) > 10*time.Minute {
			delay, immediate = w.r.cfg.BackoffBase, true
		}
		if immediate {
			immediate = false
			continue
		}
		w.restartBackOff(c)
		if !w.sleepOf(ctx, c, delay) {
			return
		}
		delay = min(2*delay, w.r.cfg.BackoffMax)
	}
}

// runInstance follows a running task, with its probes, until it exits;
// it says when it started and whether the restart policy restarts it.
// After a detach the task is left running and not restarted here.
func (w *podWorker) runInstance(ctx context.Context, c *corev1.Container, task containerd.Task, exitCh <-chan containerd.ExitStatus, adopted bool, log *slog.Logger) (time.Time, bool) {
	var hookKill *probeKill
	if adopted {
		w.setAdopted(c.Name, task.ID())
	} else {
		at := time.Now()
		w.normal(EventStarted, c.Name, "Started container %s", c.Name)
		hookKill = w.postStart(ctx, c, task, log) // Running once it returned (hooks.go)
		w.setRunning(c.Name, at, task.ID())
	}
	started := w.startedAt(c.Name)
	ooms := w.oomKillsOf(c.Name)
	var ex exit
	if hookKill != nil { // killed at once, no probes
		kills := make(chan probeKill, 1)
		kills <- *hookKill
		ex = w.waitExit(ctx, c, task, exitCh, kills, log)
	} else {
		probes := w.startProbes(ctx, c, task, started, adopted, log)
		ex = w.waitExit(ctx, c, task, exitCh, probes.kill, log)
		probes.stop()
	}
	if ctx.Err() != nil && !ex.stopped {
		return started, false // detached: the container keeps running
	}
	// Read before the task's deletion removes the cgroup.
	ex.oom = ex.code != 0 && w.oomKillsOf(c.Name) > ooms
	if _, err := task.Delete(context.WithoutCancel(ctx)); err != nil && !errdefs.IsNotFound(err) {
		log.Warn("delete task", "error", err)
	}
	restart := !ex.stopped && restarts(w.restartPolicy(c), ex.code, ex.killed != "")
	w.setTerminated(c.Name, ex.code, started, ex.at, !restart, ex.killed, ex.oom)
	if restart {
		log.Info("container exited; restarting", "exitCode", ex.code, "killed", ex.killed)
	}
	return started, restart
}

// exit is how a container instance ended. stopped: the pod stopped it;
// killed: a probe failed (the message). Both empty: it exited by itself,
// or the runtime detached (the zero exit).
type exit struct {
	code    int32
	at      time.Time
	stopped bool
	killed  string
	oom     bool // the OOM killer ended it (its cgroup's oom_kill rose)
}

// waitExit waits for the task to exit, for terminate (SIGTERM, then
// SIGKILL at the pod's deadline) or for a probe's or postStart hook's kill
// (SIGTERM, then SIGKILL after its grace period); the preStop hook runs
// before SIGTERM.
func (w *podWorker) waitExit(ctx context.Context, c *corev1.Container, task containerd.Task, exitCh <-chan containerd.ExitStatus, kills <-chan probeKill, log *slog.Logger) exit {
	var ex exit
	var deadline time.Time
	select {
	case st := <-exitCh:
		return exit{code: int32(st.ExitCode()), at: st.ExitTime()}
	case <-ctx.Done():
		return exit{}
	case <-w.stopOf(c):
		ex.stopped = true
		deadline, _ = w.killDeadlineOf(c)
		w.killing(c, "")
	case k := <-kills:
		log.Info("killing the container", "reason", k.msg, "grace", k.grace)
		ex.killed, deadline = k.msg, time.Now().Add(k.grace)
		if k.event != "" {
			w.normal(EventKilling, c.Name, "%s", k.event)
		} else {
			w.killing(c, k.msg)
		}
	}
	deadline = w.preStop(ctx, c, task, deadline, ex.stopped, log)
	if ctx.Err() != nil && !ex.stopped {
		return exit{} // detached during the hook: the container is left as it is
	}
	if err := task.Kill(context.WithoutCancel(ctx), syscall.SIGTERM); err != nil && !errdefs.IsNotFound(err) {
		log.Warn("SIGTERM", "error", err)
	}
	return w.waitKilled(ctx, c, task, exitCh, ex, deadline, log)
}

// waitKilled waits for a task sent SIGTERM to exit, and SIGKILLs it at the
// deadline. A terminate while a probe's kill is under way brings the
// deadline forward when the pod's is earlier; the runtime detaching ends
// the wait for a probe's kill (the container is left as it is). A later,
// shorter grace period brings the SIGKILL forward.
func (w *podWorker) waitKilled(ctx context.Context, c *corev1.Container, task containerd.Task, exitCh <-chan containerd.ExitStatus, ex exit, deadline time.Time, log *slog.Logger) exit {
	stop, done := w.stopOf(c), ctx.Done()
	var sooner <-chan struct{}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	earlier := func() {
		d, ch := w.killDeadlineOf(c)
		sooner = ch
		if d.Before(deadline) {
			deadline = d
			t.Reset(time.Until(d))
		}
	}
	if ex.stopped {
		stop, done = nil, nil
		earlier()
	}
	for {
		select {
		case st := <-exitCh:
			ex.code, ex.at = int32(st.ExitCode()), st.ExitTime()
			return ex
		case <-done:
			return exit{}
		case <-stop:
			ex.stopped, stop, done = true, nil, nil
			earlier()
			continue
		case <-sooner:
			earlier()
			continue
		case <-t.C:
		}
		log.Info("grace period over; SIGKILL")
		if err := task.Kill(context.WithoutCancel(ctx), syscall.SIGKILL, containerd.WithKillAll); err != nil && !errdefs.IsNotFound(err) {
			log.Warn("SIGKILL", "error", err)
		}
		st := <-exitCh
		ex.code, ex.at = int32(st.ExitCode()), st.ExitTime()
		return ex
	}
}

// restarts applies the restart policy; a container killed for a failed
// probe restarts unless the policy is Never, whatever its exit code.
func restarts(policy corev1.RestartPolicy, code int32, killed bool) bool {
	switch policy {
	case corev1.RestartPolicyNever:
		return false
	case corev1.RestartPolicyOnFailure:
		return code != 0 || killed
	}
	return true
}

// loadTask loads a running container's task, re-attaching to its output
// (see crilog.go); a task that cannot be attached is loaded without.
func (r *Runtime) loadTask(ctx context.Context, ctr containerd.Container, s *sandbox, name string) (containerd.Task, error) {
	if task, err := ctr.Task(ctx, r.logAttach(s, name)); err == nil {
		return task, nil
	}
	return ctr.Task(ctx, nil)
}

// taskFor adopts the container's running task on the first attempt, or
// creates the container afresh from its image (pulled if need be).
func (w *podWorker) taskFor(ctx context.Context, c *corev1.Container, adopt bool) (containerd.Task, bool, error) {
	r, s, pod := w.r, w.sb, w.pod
	if adopt {
		if ctr, err := r.client.LoadContainer(ctx, containerID(s.id, c.Name)); err == nil {
			if task, err := w.r.loadTask(ctx, ctr, s, c.Name); err == nil {
				if st, err := task.Status(ctx); err == nil && st.Status == containerd.Running {
					return task, true, nil
				}
			}
		}
	}
	var pullStart time.Time
	img, err := r.ensureImage(ctx, c, w.pullSecrets(ctx), w.stopOf(c), func() { pullStart = w.startPull(c) })
	if err != nil {
		return nil, false, err
	}
	w.imageReady(c, pullStart)
	env, err := containerEnv(ctx, envInput{pod: pod, c: c, podIPs: []string{s.podIP.String()}, hostIPs: r.cfg.NodeIPs,
		objects: r.cfg.Objects, capacity: r.cfg.NodeCapacity})
	if err != nil {
		return nil, false, err
	}
	task, err := r.createContainer(ctx, s, pod, c, img, env)
	return task, false, err
}
