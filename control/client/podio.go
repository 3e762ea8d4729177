package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/weirnet/weir/control/api/execstream"
)

var podResource = schema.GroupVersionResource{Version: "v1", Resource: "pods"}

// LogOptions selects a pod's log: the container ("" = the pod's only or
// default container), following it, the last TailLines lines (< 0: all),
// or the previous instance of a restarted container.
type LogOptions struct {
	Container string
	Follow    bool
	TailLines int64
	Previous  bool
}

// Logs writes a container's log to w (GET pods/{name}/log). Without
// Follow it is bounded by the client's timeout; with Follow it streams
// until ctx ends, the container stops or the pod is removed.
func (c *Client) Logs(ctx context.Context, namespace, pod string, opts LogOptions, w io.Writer) error {
	q := url.Values{}
	if opts.Container != "" {
		q.Set("container", opts.Container)
	}
	if opts.Follow {
		q.Set("follow", "true")
	} else {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	if opts.TailLines >= 0 {
		q.Set("tailLines", strconv.FormatInt(opts.TailLines, 10))
	}
	if opts.Previous {
		q.Set("previous", "true")
	}
	resp, err := c.stream(ctx, http.MethodGet, c.subPath(namespace, pod, "log"), q, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil && ctx.Err() == nil {
		return fmt.Errorf("log of pod %s: %w", pod, err)
	}
	return nil
}

// Exec runs cmd in a pod's container (POST pods/{name}/exec) without a
// terminal, copying its output to stdout and stderr as it comes, and
// returns its exit code. stdin, when not nil, is streamed as the
// command's stdin. A command that could not run is an
// *execstream.RemoteError.
func (c *Client) Exec(ctx context.Context, namespace, pod, container string, cmd []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	if len(cmd) == 0 {
		return 0, fmt.Errorf("exec in pod %s: give a command", pod)
	}
	q := url.Values{"command": cmd}
	if container != "" {
		q.Set("container", container)
	}
	if stdin != nil {
		q.Set("stdin", "true")
	}
	resp, err := c.stream(ctx, http.MethodPost, c.subPath(namespace, pod, "exec"), q, stdin)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return execstream.Read(resp.Body, stdout, stderr)
}

func (c *Client) subPath(namespace, pod, sub string) string {
	if namespace == "" {
		namespace = c.namespace
	}
	return Path(podResource, namespace, pod) + "/" + sub
}

// stream sends a request whose answer is a stream (no client timeout on
// the body) and returns the response when it is 2xx, else *StatusError.
func (c *Client) stream(ctx context.Context, method, path string, q url.Values, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+path+"?"+q.Encode(), body)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("User-Agent", "weir-client")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w (is the weir server at %s running? check --server)", method, path, err, c.base.Host)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer resp.Body.Close()
		return nil, decodeError(resp)
	}
	return resp, nil
}
