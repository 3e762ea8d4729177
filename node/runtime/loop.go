package runtime

import (
	"context"
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
	for attempt := 0; !w.stopping() && ctx.Err() == nil; attempt++ {
		task, adopted, err := w.r.taskFor(ctx, w.sb, w.pod, c, attempt == 0)
		if err != nil {
			log.Warn("create container", "error", err)
			w.setWaiting(c.Name, "CreateContainerError", err.Error())
			if !w.sleep(ctx, delay) {
				return
			}
			delay = min(2*delay, w.r.cfg.BackoffMax)
			continue
		}
		exitCh, err := task.Wait(ctx)
		if err == nil && !adopted {
			err = task.Start(ctx)
		}
		if err != nil {
			log.Warn("start container", "error", err)
			w.setWaiting(c.Name, "RunContainerError", err.Error())
			w.r.removeContainer(context.WithoutCancel(ctx), containerID(w.sb.id, c.Name))
			if !w.sleep(ctx, delay) {
				return
			}
			delay = min(2*delay, w.r.cfg.BackoffMax)
			continue
		}
		started := time.Now()
		w.setRunning(c.Name, started, task.ID())
		code, finished, stopped := w.waitExit(ctx, task, exitCh, log)
		if ctx.Err() != nil && !stopped {
			return // detached: the container keeps running
		}
		if _, err := task.Delete(context.WithoutCancel(ctx)); err != nil && !errdefs.IsNotFound(err) {
			log.Warn("delete task", "error", err)
		}
		restart := !stopped && restarts(w.pod.Spec.RestartPolicy, code)
		w.setTerminated(c.Name, code, started, finished, !restart)
		if !restart {
			return
		}
		if time.Since(started) > 10*time.Minute {
			delay = w.r.cfg.BackoffBase
		}
		log.Info("container exited; restarting", "exitCode", code, "backoff", delay)
		if !w.sleep(ctx, delay) {
			return
		}
		delay = min(2*delay, w.r.cfg.BackoffMax)
	}
}

// waitExit waits for the task to exit, or for terminate (SIGTERM, then
// SIGKILL at the deadline). stopped says the pod stopped it.
func (w *podWorker) waitExit(ctx context.Context, task containerd.Task, exitCh <-chan containerd.ExitStatus, log *slog.Logger) (int32, time.Time, bool) {
	select {
	case st := <-exitCh:
		return int32(st.ExitCode()), st.ExitTime(), false
	case <-ctx.Done():
		return 0, time.Time{}, false
	case <-w.stop:
	}
	kctx := context.WithoutCancel(ctx)
	if err := task.Kill(kctx, syscall.SIGTERM); err != nil && !errdefs.IsNotFound(err) {
		log.Warn("SIGTERM", "error", err)
	}
	t := time.NewTimer(time.Until(w.deadline))
	defer t.Stop()
	select {
	case st := <-exitCh:
		return int32(st.ExitCode()), st.ExitTime(), true
	case <-t.C:
	}
	log.Info("grace period over; SIGKILL")
	if err := task.Kill(kctx, syscall.SIGKILL, containerd.WithKillAll); err != nil && !errdefs.IsNotFound(err) {
		log.Warn("SIGKILL", "error", err)
	}
	st := <-exitCh
	return int32(st.ExitCode()), st.ExitTime(), true
}

func restarts(policy corev1.RestartPolicy, code int32) bool {
	switch policy {
	case corev1.RestartPolicyNever:
		return false
	case corev1.RestartPolicyOnFailure:
		return code != 0
	}
	return true
}

// taskFor adopts the container's running task on the first attempt, or
// creates the container afresh.
func (r *Runtime) taskFor(ctx context.Context, s *sandbox, pod *corev1.Pod, c *corev1.Container, adopt bool) (containerd.Task, bool, error) {
	if adopt {
		if ctr, err := r.client.LoadContainer(ctx, containerID(s.id, c.Name)); err == nil {
			if task, err := ctr.Task(ctx, nil); err == nil {
				if st, err := task.Status(ctx); err == nil && st.Status == containerd.Running {
					return task, true, nil
				}
			}
		}
	}
	task, err := r.createContainer(ctx, s, pod, c)
	return task, false, err
}
