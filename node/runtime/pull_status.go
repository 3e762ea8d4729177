package runtime

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// pulling shows a container whose image pull is retried after a failure
// as ContainerCreating again while the pull runs (a first pull already
// is: every container starts so).
func (w *podWorker) pulling(name, image string) {
	w.updateIf(name, func(c *ctrState) bool {
		if wt := c.state.Waiting; wt == nil || wt.Reason != reasonErrImagePull && wt.Reason != reasonImagePullBackOff {
			return false
		}
		c.state = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating",
			Message: fmt.Sprintf("Pulling image %q", image)}}
		return true
	})
}

// imageFailed reports a container's image failure and waits delay before
// the next attempt; false when the pod stopped meanwhile. A failed pull
// shows ErrImagePull first and ImagePullBackOff for the rest of the
// back-off, as with the kubelet; ErrImageNeverPull and InvalidImageName
// stay as they are (the image may be imported meanwhile).
func (w *podWorker) imageFailed(ctx context.Context, c *corev1.Container, ie *imageError, delay time.Duration, log *slog.Logger) bool {
	log.Warn("container image", "image", c.Image, "reason", ie.reason, "error", ie.err, "retryIn", delay)
	w.setWaiting(c.Name, ie.reason, ie.Error())
	w.imageEvents(c, ie)
	if ie.reason != reasonErrImagePull {
		return w.sleepOf(ctx, c, delay)
	}
	first := min(delay/2, 2*time.Second)
	if !w.sleepOf(ctx, c, first) {
		return false
	}
	w.pullBackOff(c)
	w.setWaiting(c.Name, reasonImagePullBackOff, fmt.Sprintf("Back-off pulling image %q: %s: %s", c.Image, reasonErrImagePull, ie.Error()))
	return w.sleepOf(ctx, c, delay-first)
}
