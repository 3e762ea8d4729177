package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	containerd "github.com/containerd/containerd"
	corev1 "k8s.io/api/core/v1"
)

// Lifecycle hooks, as the kubelet runs them. postStart runs right after
// the container started; the container shows Running once it returned. A
// failed postStart (FailedPostStartHook event) kills the container, which
// then restarts per the restart policy. preStop runs before every stop of
// a running container (pod deletion or active deadline, a failed probe or
// postStart), bounded by the grace period; SIGTERM follows, and SIGKILL at
// the end of the grace period, at least 2 seconds after the hook. exec
// runs in the container like an exec probe (without a timeout), httpGet
// dials the pod from the node's network namespace (any response is a
// success, only a failed request fails), sleep waits.

// The kubelet's event reasons for failed hooks.
const (
	EventFailedPostStartHook = "FailedPostStartHook"
	EventFailedPreStopHook   = "FailedPreStopHook"
)

// minHookGrace is the time SIGTERM gets after a preStop hook that used
// (nearly) all of the grace period, as the kubelet's minimum.
const minHookGrace = 2 * time.Second

// postStart runs c's postStart hook, if any, until it returns, the pod
// stops or the runtime detaches. A failure is recorded and returned as a
// kill of the container (nil when it succeeded or did not finish because
// the pod stops).
func (w *podWorker) postStart(ctx context.Context, c *corev1.Container, task containerd.Task, log *slog.Logger) *probeKill {
	if c.Lifecycle == nil || c.Lifecycle.PostStart == nil {
		return nil
	}
	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-w.stopOf(c):
			cancel()
		case <-hctx.Done():
		}
	}()
	err := w.runHook(hctx, c, task, c.Lifecycle.PostStart)
	if err == nil || w.stoppingOf(c) || ctx.Err() != nil {
		return nil
	}
	log.Info("postStart hook failed; killing the container", "error", err)
	w.warning(EventFailedPostStartHook, c.Name, "%s", err.Error())
	return &probeKill{msg: err.Error(), grace: hookKillGrace(w.pod), event: EventFailedPostStartHook}
}

// hookKillGrace is the grace period of a container killed after a failed
// postStart: the pod's terminationGracePeriodSeconds.
func hookKillGrace(pod *corev1.Pod) time.Duration {
	secs := int64(30)
	if pod.Spec.TerminationGracePeriodSeconds != nil {
		secs = *pod.Spec.TerminationGracePeriodSeconds
	}
	return time.Duration(max(secs, 0)) * time.Second
}

// preStop runs c's preStop hook, if any, before the container is sent
// SIGTERM; deadline is the SIGKILL time (followPod: the pod's, which a
// later terminate may bring forward). It returns the SIGKILL time after
// the hook: at least minHookGrace from now.
func (w *podWorker) preStop(ctx context.Context, c *corev1.Container, task containerd.Task, deadline time.Time, followPod bool, log *slog.Logger) time.Time {
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || !deadline.After(time.Now()) {
		return deadline
	}
	hctx, cancel := w.untilKill(ctx, c, deadline, followPod)
	err := w.runHook(hctx, c, task, c.Lifecycle.PreStop)
	cut := hctx.Err() != nil
	cancel()
	switch {
	case err != nil && cut:
		log.Info("preStop hook did not finish within the grace period", "error", err)
	case err != nil:
		log.Info("preStop hook failed", "error", err)
		w.warning(EventFailedPreStopHook, c.Name, "%s", err.Error())
	}
	if followPod {
		deadline, _ = w.killDeadlineOf(c)
	}
	if floor := time.Now().Add(minHookGrace); deadline.Before(floor) {
		deadline = floor
		if followPod {
			w.extendKill(c, floor)
		}
	}
	return deadline
}

// untilKill is a context that ends at deadline or, following the pod's
// SIGKILL time, when a terminate brings that earlier.
func (w *podWorker) untilKill(ctx context.Context, c *corev1.Container, deadline time.Time, followPod bool) (context.Context, context.CancelFunc) {
	hctx, cancel := context.WithCancel(ctx)
	var sooner <-chan struct{}
	if followPod {
		deadline, sooner = w.killDeadlineOf(c)
	}
	go func() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		for {
			select {
			case <-hctx.Done():
				return
			case <-t.C:
				cancel()
				return
			case <-sooner:
				d, ch := w.killDeadlineOf(c)
				sooner = ch
				t.Reset(time.Until(d))
			}
		}
	}()
	return hctx, cancel
}

// extendKill moves the SIGKILL time of c (the pod's, a sidecar's) to at
// when it is earlier: the kubelet's minimum grace after a preStop hook.
// It does not signal sooner.
func (w *podWorker) extendKill(c *corev1.Container, at time.Time) {
	w.killMu.Lock()
	if !w.deadline.IsZero() && w.deadline.Before(at) {
		w.deadline = at
	}
	if isSidecar(c) && !w.sideDeadline.IsZero() && w.sideDeadline.Before(at) {
		w.sideDeadline = at
	}
	w.killMu.Unlock()
}

// runHook runs one lifecycle handler in (or against) the container; the
// error, worded as the kubelet's, says why it failed.
func (w *podWorker) runHook(ctx context.Context, c *corev1.Container, task containerd.Task, h *corev1.LifecycleHandler) error {
	pod := fmt.Sprintf("%s_%s(%s)", w.pod.Name, w.pod.Namespace, w.pod.UID)
	switch {
	case h.Exec != nil:
		e := &execer{task: task, fifoDir: filepath.Join(w.r.cfg.DataDir, "fifo")}
		ok, out, err := e.run(ctx, h.Exec.Command)
		if err == nil && ok {
			return nil
		}
		if err == nil {
			err = errors.New("command failed")
		}
		return fmt.Errorf("Exec lifecycle hook (%v) for Container %q in Pod %q failed - error: %v, message: %q", h.Exec.Command, c.Name, pod, err, out)
	case h.HTTPGet != nil:
		if err := w.hookHTTP(ctx, c, h.HTTPGet); err != nil {
			return fmt.Errorf("HTTP lifecycle hook (%s) for Container %q in Pod %q failed - error: %v", h.HTTPGet.Path, c.Name, pod, err)
		}
		return nil
	case h.Sleep != nil:
		t := time.NewTimer(time.Duration(h.Sleep.Seconds) * time.Second)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("container terminated before sleep hook finished")
		}
	}
	return fmt.Errorf("cannot run the lifecycle hook of container %q in pod %q: it has no exec, httpGet or sleep handler", c.Name, pod)
}

// hookHTTP sends an httpGet hook's request; any response succeeds.
func (w *podWorker) hookHTTP(ctx context.Context, c *corev1.Container, a *corev1.HTTPGetAction) error {
	chk := &checker{ctr: c, podIP: w.sb.podIP.String(), netns: w.r.cfg.NodeNetns}
	req, err := chk.newHTTPGet(ctx, a, "kube-lifecycle/1.37")
	if err != nil {
		return err
	}
	resp, err := chk.send(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxProbeOutput))
	return resp.Body.Close()
}
