package api

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/proxy"
	apiproxy "k8s.io/apiserver/pkg/util/proxy"
	"k8s.io/streaming/pkg/httpstream/wsstream"
)

// servePodStream answers pods/exec, pods/attach and pods/portforward (GET
// for WebSocket clients, POST for SPDY ones) as kube-apiserver does: it
// checks the pod and the container, then proxies the upgrade to the
// node's API (the kubelet's /exec, /attach and /portForward), where the
// streaming protocols are served. WebSocket and SPDY pass through as
// they are; a WebSocket port-forward that tunnels SPDY
// (v2.portforward.k8s.io) is unwrapped here, as kube-apiserver does.
func (s *Server) servePodStream(w http.ResponseWriter, r *http.Request, rq *request) error {
	q := r.URL.Query()
	ctx := r.Context()
	params := url.Values{}
	switch rq.sub {
	case "exec", "attach":
		t, err := s.podTarget(ctx, rq, q.Get("container"))
		if err != nil {
			return err
		}
		if err := podFinished(t.pod, rq.sub); err != nil {
			return err
		}
		cmd := q["command"]
		if rq.sub == "exec" && (len(cmd) == 0 || cmd[0] == "") {
			return errBadRequest("you must specify at least one command for the container")
		}
		streams := 0
		for _, p := range [][2]string{{"stdin", "input"}, {"stdout", "output"}, {"stderr", "error"}, {"tty", "tty"}} {
			on, err := queryBool(q, p[0])
			if err != nil {
				return err
			}
			if on {
				params.Set(p[1], "1")
				if p[0] != "tty" {
					streams++
				}
			}
		}
		if streams == 0 {
			return errBadRequest("you must specify at least one of stdin, stdout, or stderr")
		}
		for _, c := range cmd {
			params.Add("command", c)
		}
		return s.proxyStream(w, r, t, podPath(rq.sub, t), params, false)
	default: // portforward
		for _, p := range q["ports"] {
			if n, err := strconv.ParseUint(p, 10, 16); err != nil || n == 0 {
				return errBadRequest("invalid port %q: ports must be numbers between 1 and 65535", p)
			}
			params.Add("port", p)
		}
		t, err := s.podNodeTarget(ctx, rq, nil)
		if err != nil {
			return err
		}
		if err := podFinished(t.pod, rq.sub); err != nil {
			return err
		}
		return s.proxyStream(w, r, t, "/portForward/"+url.PathEscape(t.pod.Namespace)+"/"+url.PathEscape(t.pod.Name), params, true)
	}
}

// proxyStream proxies an upgrade request to the node's API: an
// UpgradeAwareHandler dialling the node with TLS trusting only the
// cluster CA and presenting the control plane's client certificate, never
// the client's credentials.
func (s *Server) proxyStream(w http.ResponseWriter, r *http.Request, t *nodeTarget, path string, params url.Values, portForward bool) error {
	client, err := s.nodeHTTP(r.Context(), t.node)
	if err != nil {
		return err
	}
	loc, err := url.Parse(t.base + path)
	if err != nil {
		return errInternal(err)
	}
	loc.RawQuery = params.Encode()
	responder := &streamResponder{s: s, t: t}
	var h http.Handler = proxy.NewUpgradeAwareHandler(loc, client.Transport, false, true, responder)
	if portForward {
		h = apiproxy.NewTranslatingHandler(h, apiproxy.NewTunnelingHandler(h), wsstream.IsWebSocketRequestWithTunnelingProtocol)
	}
	out := r.Clone(r.Context())
	out.Header.Del("Authorization") // the node knows the control plane by its client certificate
	for k := range out.Header {
		if strings.HasPrefix(http.CanonicalHeaderKey(k), "Impersonate-") {
			out.Header.Del(k)
		}
	}
	h.ServeHTTP(w, out)
	return nil
}

// streamResponder answers a node that cannot be reached.
type streamResponder struct {
	s *Server
	t *nodeTarget
}

func (sr *streamResponder) Error(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() == context.Canceled {
		return
	}
	var se *apierrors.StatusError
	if errors.As(err, &se) { // the handler's own answers ("Upgrade request required")
		sr.s.writeError(w, r, se)
		return
	}
	sr.s.writeError(w, r, errUnavailable("node "+sr.t.node+" does not answer at "+sr.t.base+": "+trimURLError(err)+": check that its agent runs and that this member reaches the node's address"))
}

func queryBool(q url.Values, name string) (bool, error) {
	v := q.Get(name)
	if v == "" {
		return false, nil
	}
	on, err := strconv.ParseBool(v)
	if err != nil {
		return false, errBadRequest("%s=%q: want true or false", name, v)
	}
	return on, nil
}
