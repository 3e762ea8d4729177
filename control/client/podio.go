package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/client-go/util/exec"
	"k8s.io/streaming/pkg/httpstream"
)

// LogOptions selects a pod's log: the container ("" = the pod's only or
// default container), following it, the last TailLines lines (< 0: all),
// the previous instance of a restarted container, time prefixes, and
// only the lines of the last Since.
type LogOptions struct {
	Container  string
	Follow     bool
	TailLines  int64
	Previous   bool
	Timestamps bool          // each line prefixed with the RFC3339Nano time it was written
	Since      time.Duration // only lines newer than this (rounded up to a second); 0: all
}

// Logs writes a container's log to w (pods/{name}/log through the typed
// client). Without Follow it is bounded by the client's timeout; with
// Follow it streams until ctx ends, the container stops or the pod is
// removed.
func (c *Client) Logs(ctx context.Context, namespace, pod string, opts LogOptions, w io.Writer) error {
	if namespace == "" {
		namespace = c.namespace
	}
	po := &corev1.PodLogOptions{Container: opts.Container, Follow: opts.Follow, Previous: opts.Previous, Timestamps: opts.Timestamps}
	if opts.TailLines >= 0 {
		tail := opts.TailLines
		po.TailLines = &tail
	}
	if opts.Since > 0 {
		s := int64((opts.Since + time.Second - 1) / time.Second)
		po.SinceSeconds = &s
	}
	if !opts.Follow {
		var cancel context.CancelFunc
		ctx, cancel = c.bounded(ctx)
		defer cancel()
	}
	rc, err := c.kube.CoreV1().Pods(namespace).GetLogs(pod, po).Stream(ctx)
	if err != nil {
		return c.wrapErr(err)
	}
	defer rc.Close()
	if _, err := io.Copy(w, rc); err != nil && ctx.Err() == nil {
		return fmt.Errorf("log of pod %s: %w", pod, err)
	}
	return nil
}

// Exec runs cmd in a pod's container (pods/{name}/exec) without a
// terminal, copying its output to stdout and stderr as it comes, and
// returns its exit code. stdin, when not nil, is streamed as the
// command's stdin. It speaks what kubectl speaks (client-go's
// remotecommand): WebSocket v5.channel.k8s.io, falling back to SPDY when
// the upgrade is refused. A command that could not run is an error.
func (c *Client) Exec(ctx context.Context, namespace, pod, container string, cmd []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	if len(cmd) == 0 {
		return 0, fmt.Errorf("exec in pod %s: give a command", pod)
	}
	if namespace == "" {
		namespace = c.namespace
	}
	u := c.kube.CoreV1().RESTClient().Post().Resource("pods").Namespace(namespace).Name(pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{Container: container, Command: cmd, Stdin: stdin != nil, Stdout: true, Stderr: true},
			scheme.ParameterCodec).URL()
	ws, err := remotecommand.NewWebSocketExecutor(c.config, http.MethodGet, u.String())
	if err != nil {
		return 0, err
	}
	spdy, err := remotecommand.NewSPDYExecutor(c.config, http.MethodPost, u)
	if err != nil {
		return 0, err
	}
	ex, err := remotecommand.NewFallbackExecutor(ws, spdy, fallBackToSPDY)
	if err != nil {
		return 0, err
	}
	err = ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdin: stdin, Stdout: stdout, Stderr: stderr})
	var exit utilexec.ExitError
	if errors.As(err, &exit) && exit.Exited() {
		return exit.ExitStatus(), nil
	}
	if err != nil {
		return 0, c.wrapErr(err)
	}
	return 0, nil
}

// fallBackToSPDY says whether a failed WebSocket exec should be tried again
// over SPDY, as kubectl does: when the upgrade failed, unless the server
// answered it with a Status that SPDY would get too (no such pod, a bad
// request, no rights).
func fallBackToSPDY(err error) bool {
	if httpstream.IsHTTPSProxyError(err) {
		return true
	}
	var uf *httpstream.UpgradeFailureError
	if !errors.As(err, &uf) {
		return false
	}
	var st apierrors.APIStatus
	if errors.As(uf.Cause, &st) {
		switch st.Status().Reason {
		case metav1.StatusReasonNotFound, metav1.StatusReasonBadRequest, metav1.StatusReasonForbidden, metav1.StatusReasonUnauthorized, metav1.StatusReasonInvalid:
			return false
		}
	}
	return true
}
