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
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// logTimeout bounds a pods/log request without follow.
const logTimeout = 2 * time.Minute

// setProxyVerb: pods/log is read with GET; exec, attach and portforward
// are connected with GET (WebSocket) or POST (SPDY), as kube-apiserver's
// connect verbs.
func (rq *request) setProxyVerb(r *http.Request) error {
	switch {
	case r.Method == http.MethodGet:
		rq.verb = "get"
	case rq.sub != "log" && r.Method == http.MethodPost:
		rq.verb = "create"
	default:
		return errMethodNotAllowed()
	}
	return nil
}

// isProxySub says whether a subresource is served by the pod's node.
func isProxySub(sub string) bool {
	return sub == "log" || sub == "exec" || sub == "attach" || sub == "portforward"
}

// serveNodeProxy answers pods/log, exec, attach and portforward through
// the node's API.
func (s *Server) serveNodeProxy(w http.ResponseWriter, r *http.Request, rq *request) {
	var err error
	if rq.sub == "log" {
		err = s.servePodLog(w, r, rq)
	} else {
		err = s.servePodStream(w, r, rq)
	}
	if err != nil {
		s.writeError(w, r, err)
	}
}

// servePodLog answers GET .../pods/{name}/log with PodLogOptions
// (container, follow, previous, timestamps, sinceSeconds, sinceTime,
// tailLines, limitBytes), validated as kube-apiserver does, with the
// container's output as text/plain, streamed while following.
func (s *Server) servePodLog(w http.ResponseWriter, r *http.Request, rq *request) error {
	q := r.URL.Query()
	nq := url.Values{}
	for _, b := range []string{"follow", "previous", "timestamps"} {
		on, err := queryBool(q, b)
		if err != nil {
			return err
		}
		if on {
			nq.Set(b, "true")
		}
	}
	var errs field.ErrorList
	ints := map[string]int64{}
	for _, name := range []string{"tailLines", "sinceSeconds", "limitBytes"} {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return errBadRequest("%s=%q: want an integer", name, v)
			}
			ints[name] = n
			nq.Set(name, v)
		}
	}
	if n, ok := ints["tailLines"]; ok && n < 0 {
		errs = append(errs, field.Invalid(field.NewPath("tailLines"), n, "must be greater than or equal to 0"))
	}
	if n, ok := ints["limitBytes"]; ok && n < 1 {
		errs = append(errs, field.Invalid(field.NewPath("limitBytes"), n, "must be greater than 0"))
	}
	if v := q.Get("sinceTime"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return errBadRequest("sinceTime=%q: want an RFC3339 time", v)
		}
		if _, ok := ints["sinceSeconds"]; ok {
			errs = append(errs, field.Forbidden(field.NewPath(""), "at most one of `sinceTime` or `sinceSeconds` may be specified"))
		}
		nq.Set("sinceTime", t.UTC().Format(time.RFC3339))
	}
	if n, ok := ints["sinceSeconds"]; ok && n < 1 {
		errs = append(errs, field.Invalid(field.NewPath("sinceSeconds"), n, "must be greater than 0"))
	}
	if len(errs) > 0 {
		return errInvalid(&resource{kindInfo: kindInfo{Kind: "PodLogOptions"}}, rq.name, errs)
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
		return errUnavailable(fmt.Sprintf("node %s rejected the control plane's client certificate (%s): check that its agent trusts this cluster's CA (--ca-file)", t.node, msg))
	}
	return errUnavailable(fmt.Sprintf("node %s answered %d: %s", t.node, resp.StatusCode, msg))
}

// podFinished: exec, attach and port-forward need a running pod (the
// wording of kube-apiserver's exec and attach).
func podFinished(p *corev1.Pod, sub string) error {
	if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
		what := map[string]string{"exec": "exec into a container", "attach": "attach to a container", "portforward": "port-forward to"}[sub]
		return errBadRequest("cannot %s in a completed pod; current phase is %s", what, p.Status.Phase)
	}
	return nil
}
