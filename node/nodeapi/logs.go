package nodeapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/node/runtime"
)

// serveLogs answers GET /containerLogs/{namespace}/{pod}/{container} with
// the kubelet's parameters: follow, previous, timestamps, tailLines,
// sinceSeconds, sinceTime (RFC3339), limitBytes.
func (s *Server) serveLogs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	opts := runtime.LogOptions{TailLines: -1}
	bad := func(msg string) { writeStatus(w, http.StatusBadRequest, metav1.StatusReasonBadRequest, msg) }
	for name, dst := range map[string]*bool{"follow": &opts.Follow, "previous": &opts.Previous, "timestamps": &opts.Timestamps} {
		if v := q.Get(name); v != "" {
			on, err := strconv.ParseBool(v)
			if err != nil {
				bad(name + " must be true or false, not " + strconv.Quote(v))
				return
			}
			*dst = on
		}
	}
	for name, dst := range map[string]*int64{"tailLines": &opts.TailLines, "limitBytes": &opts.LimitBytes} {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 || name == "limitBytes" && n == 0 {
				bad(name + " must be a positive integer, not " + strconv.Quote(v))
				return
			}
			*dst = n
		}
	}
	if v := q.Get("sinceSeconds"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			bad("sinceSeconds must be a positive integer, not " + strconv.Quote(v))
			return
		}
		opts.Since = time.Now().Add(-time.Duration(n) * time.Second)
	}
	if v := q.Get("sinceTime"); v != "" {
		if q.Get("sinceSeconds") != "" {
			bad("at most one of sinceTime or sinceSeconds may be specified")
			return
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			bad("sinceTime must be an RFC3339 time, not " + strconv.Quote(v))
			return
		}
		opts.Since = t
	}
	ctx := r.Context()
	if !opts.Follow {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.cfg.LogTimeout)
		defer cancel()
	}
	lw := newLazyWriter(w, "text/plain; charset=utf-8")
	err := s.cfg.Runtime.Logs(ctx, r.PathValue("namespace"), r.PathValue("pod"), r.PathValue("container"), opts, lw)
	switch {
	case err != nil && !lw.hasStarted():
		writeError(w, err)
	case err != nil:
		s.cfg.Logger.Warn("log stream cut", "pod", r.PathValue("namespace")+"/"+r.PathValue("pod"), "error", err)
	default:
		lw.Started()
	}
}
