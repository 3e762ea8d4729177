package nodeapi

import (
	"context"
	"net/http"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/node/runtime"
)

// serveLogs answers GET /containerLogs/{namespace}/{pod}/{container}.
func (s *Server) serveLogs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	opts := runtime.LogOptions{TailLines: -1, Follow: q.Get("follow") == "true", Previous: q.Get("previous") == "true"}
	if v := q.Get("tailLines"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			writeStatus(w, http.StatusBadRequest, metav1.StatusReasonBadRequest, "tailLines must be a non-negative integer, not "+strconv.Quote(v))
			return
		}
		opts.TailLines = n
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
