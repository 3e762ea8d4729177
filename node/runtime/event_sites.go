package runtime

import (
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// The events of the runtime's steps, worded as the kubelet words them.

// startPull is the pull callback of ensureImage: the container shows
// ContainerCreating again (a retry) and a Pulling event is recorded. It
// returns when the pull started.
func (w *podWorker) startPull(c *corev1.Container) time.Time {
	w.pulling(c.Name, c.Image)
	w.normal(EventPulling, c.Name, "Pulling image %q", c.Image)
	return time.Now()
}

// imageReady records Pulled: pulled (since start) or already present
// (start is zero: no pull was needed).
func (w *podWorker) imageReady(c *corev1.Container, start time.Time) {
	if start.IsZero() {
		w.normal(EventPulled, c.Name, "Container image %q already present on machine", c.Image)
		return
	}
	d := time.Since(start).Round(time.Millisecond)
	w.normal(EventPulled, c.Name, "Successfully pulled image %q in %s (%s including waiting)", c.Image, d, d)
}

// imageEvents records a container's image failure: the cause, then
// "Error: REASON" (the container's waiting reason), as the kubelet does.
func (w *podWorker) imageEvents(c *corev1.Container, ie *imageError) {
	switch ie.reason {
	case reasonErrImagePull:
		w.warning(EventFailed, c.Name, "Failed to pull image %q: %s", c.Image, ie.Error())
	case reasonErrImageNeverPull:
		w.warning(reasonErrImageNeverPull, c.Name, "%s", ie.Error())
	case reasonInvalidImageName:
		w.warning(EventInspectFailed, c.Name, "%s", ie.Error())
	}
	w.warning(EventFailed, c.Name, "Error: %s", ie.reason)
}

// pullBackOff records the wait before a failed pull is retried.
func (w *podWorker) pullBackOff(c *corev1.Container) {
	w.normal(EventBackOff, c.Name, "Back-off pulling image %q", c.Image)
	w.warning(EventFailed, c.Name, "Error: %s", reasonImagePullBackOff)
}

// restartBackOff records the wait before an exited container restarts.
func (w *podWorker) restartBackOff(c *corev1.Container) {
	w.warning(EventBackOff, c.Name, "Back-off restarting failed container %s in pod %s_%s(%s)", c.Name, w.pod.Name, w.pod.Namespace, w.pod.UID)
}

// killing records the runtime stopping a container: the pod stops, or a
// probe failed (probeMsg is the probe kill's message).
func (w *podWorker) killing(c *corev1.Container, probeMsg string) {
	if probeMsg == "" {
		w.normal(EventKilling, c.Name, "Stopping container %s", c.Name)
		return
	}
	w.normal(EventKilling, c.Name, "%s", killingMessage(probeMsg, w.pod.Spec.RestartPolicy != corev1.RestartPolicyNever))
}

// killingMessage turns a probe kill's message ("Container C failed
// liveness probe: OUTPUT") into the kubelet's Killing message ("Container
// C failed liveness probe, will be restarted"): the output is in the
// Unhealthy events already.
func killingMessage(probeMsg string, restart bool) string {
	msg, _, _ := strings.Cut(probeMsg, ":")
	if restart {
		msg += ", will be restarted"
	}
	return msg
}

// probeFailed records one failed probe result.
func (w *podWorker) probeFailed(c *corev1.Container, kind probeKind, output string) {
	w.warning(EventUnhealthy, c.Name, "%s probe failed: %s", kind, strings.TrimSpace(output))
}

// containerError records a container that could not be created or
// started (CreateContainerError, RunContainerError).
func (w *podWorker) containerError(c *corev1.Container, err error) {
	w.warning(EventFailed, c.Name, "Error: %v", err)
}

// sandboxFailed records a failed pod sandbox (network namespace, CNI,
// cgroup or pod files).
func (w *podWorker) sandboxFailed(err error) {
	if me := (*MountError)(nil); errors.As(err, &me) {
		w.warning(EventFailedMount, "", "%s", me.Error())
		return
	}
	w.warning(EventFailedSandbox, "", "%s", fmt.Sprintf("Failed to create pod sandbox: %v", err))
}
