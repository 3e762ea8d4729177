package runtime

import (
	"context"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Sidecars: init containers with restartPolicy Always, as the kubelet runs
// them. Each starts in its turn among the init containers and the next one
// starts once it is started (running, past its startup probe if it has
// one); it keeps running beside the app containers, restarting whatever
// the pod's restartPolicy, with its probes and hooks, and counts for the
// pod's readiness. It is stopped after the app containers ended (they
// completed, or the pod is stopped): with the rest of the pod's grace
// period, or the pod's terminationGracePeriodSeconds once they completed.
// Its exit does not count for the pod's phase.

func isSidecar(c *corev1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

// stopOf is the channel closed when container c is to stop: the pod's
// stop, or for a sidecar the end of the app containers.
func (w *podWorker) stopOf(c *corev1.Container) <-chan struct{} {
	if isSidecar(c) {
		return w.sideStop
	}
	return w.stop
}

func (w *podWorker) stoppingOf(c *corev1.Container) bool {
	select {
	case <-w.stopOf(c):
		return true
	default:
		return false
	}
}

// sleepOf waits d; false when c is to stop or the runtime detaches.
func (w *podWorker) sleepOf(ctx context.Context, c *corev1.Container, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-w.stopOf(c):
		return false
	case <-ctx.Done():
		return false
	}
}

// killDeadlineOf is c's SIGKILL time once it is to stop, and a channel
// closed when the pod's moves earlier.
func (w *podWorker) killDeadlineOf(c *corev1.Container) (time.Time, <-chan struct{}) {
	d, sooner := w.killDeadline()
	if isSidecar(c) {
		w.killMu.Lock()
		if !w.sideDeadline.IsZero() && (d.IsZero() || w.sideDeadline.Before(d)) {
			d = w.sideDeadline
		}
		w.killMu.Unlock()
	}
	return d, sooner
}

// startSidecar runs the sidecar's loop beside the others and waits until
// it started; false when the pod stops or the runtime detaches first.
func (w *podWorker) startSidecar(ctx context.Context, c *corev1.Container, log *slog.Logger) bool {
	w.sideWG.Add(1)
	go func() { defer w.sideWG.Done(); w.containerLoop(ctx, c, log) }()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for !w.sidecarStarted(c) {
		select {
		case <-t.C:
		case <-w.stop:
			return false
		case <-ctx.Done():
			return false
		}
	}
	return true
}

func (w *podWorker) sidecarStarted(c *corev1.Container) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	started, _ := w.ctrs[c.Name].readiness(c)
	return started
}

// stopSidecars stops the sidecars once the app containers ended and waits
// for them: with the pod's SIGKILL time when it is being stopped, else
// after its terminationGracePeriodSeconds.
func (w *podWorker) stopSidecars() {
	w.killMu.Lock()
	if w.deadline.IsZero() {
		w.sideDeadline = time.Now().Add(hookKillGrace(w.pod))
	}
	w.killMu.Unlock()
	w.sideStopOnce.Do(func() { close(w.sideStop) })
	w.sideWG.Wait()
}
