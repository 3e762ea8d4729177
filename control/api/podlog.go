package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// logTimeout bounds a pods/log request without follow.
const logTimeout = 2 * time.Minute

// setProxyVerb: pods/log is read with GET, pods/exec is run with POST.
func (rq *request) setProxyVerb(r *http.Request) error {
	switch {
	case rq.sub == "log" && r.Method == http.MethodGet:
		rq.verb = "get"
	case rq.sub == "exec" && r.Method == http.MethodPost:
		rq.verb = "create"
	default:
		return errMethodNotAllowed(r.Method, r.URL.Path)
	}
	return nil
}

// isProxySub says whether a subresource is served by the pod's node.
func isProxySub(sub string) bool { return sub == "log" || sub == "exec" }

// serveNodeProxy answers pods/log and pods/exec through the node's API.
func (s *Server) serveNodeProxy(w http.ResponseWriter, r *http.Request, rq *request) {
	var err error
	if rq.sub == "log" {
		err = s.servePodLog(w, r, rq)
	} else {
		err = s.servePodExec(w, r, rq)
	}
	if err != nil {
		s.writeError(w, r, err)
	}
}

// servePodLog answers GET .../pods/{name}/log?container=&follow=&tailLines=&previous=
// with the container's output as text/plain, streamed while following.
func (s *Server) servePodLog(w http.ResponseWriter, r *http.Request, rq *request) error {
	q := r.URL.Query()
	nq := url.Values{}
	for _, b := range []string{"follow", "previous"} {
		if v := q.Get(b); v != "" {
			on, err := strconv.ParseBool(v)
			if err != nil {
				return errBadRequest("%s=%q: want true or false", b, v)
			}
			nq.Set(b, strconv.FormatBool(on))
		}
	}
	if v := q.Get("tailLines"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err != nil || n < 0 {
			return errBadRequest("tailLines=%q: want a non-negative number of lines", v)
		}
		nq.Set("tailLines", v)
	}
	ctx := r.Context()
	if nq.Get("follow") != "true" {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, logTimeout)
		defer cancel()
	}
	t, err := s.podTarget(ctx, rq, q.Get("container"))
	if err != nil {
		return err
	}
	resp, err := s.callNode(ctx, t, http.MethodGet, podPath("containerLogs", t), nq, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nodeError(t, resp)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	copyFlushing(w, resp.Body)
	return nil
}

// copyFlushing copies src to the client, flushing after every read so
// that streamed output arrives as it comes. It ends when either side does.
func copyFlushing(w http.ResponseWriter, src io.Reader) {
	rc := http.NewResponseController(w)
	rc.Flush() // the answer's headers: the node has started
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil || rc.Flush() != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// nodeError turns a node API's error answer into the API's: the node's
// own Status for bad requests and unknown pods, 503 otherwise.
func nodeError(t *nodeTarget, resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var st metav1.Status
	msg := string(body)
	if json.Unmarshal(body, &st) == nil && st.Message != "" {
		msg = st.Message
	}
	switch resp.StatusCode {
	case http.StatusBadRequest:
		return errBadRequest("%s", msg)
	case http.StatusNotFound:
		return errBadRequest("pod %s/%s is waiting to start on node %s (%s): retry once it runs", t.pod.Namespace, t.pod.Name, t.node, msg)
	case http.StatusUnauthorized, http.StatusForbidden:
		return errUnavailable(fmt.Sprintf("node %s rejected the control plane's node token: restart its agent with the cluster's token (--token-file)", t.node))
	}
	return errUnavailable(fmt.Sprintf("node %s answered %d: %s", t.node, resp.StatusCode, msg))
}

// podFinished: exec needs a running pod.
func podFinished(p *corev1.Pod) error {
	if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
		return errBadRequest("cannot exec into a container in a completed pod; current phase is %s", p.Status.Phase)
	}
	return nil
}
