package nodeapi

import (
	"context"
	"errors"
	"io"
	"net/http"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/api/execstream"
	"github.com/weirnet/weir/node/runtime"
)

// serveExec answers POST /exec/{namespace}/{pod}/{container}.
func (s *Server) serveExec(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	cmd := q["command"]
	if len(cmd) == 0 || cmd[0] == "" {
		writeStatus(w, http.StatusBadRequest, metav1.StatusReasonBadRequest, "give the command as command=ARG parameters, one per argument")
		return
	}
	var stdin io.Reader
	if q.Get("stdin") == "true" {
		http.NewResponseController(w).EnableFullDuplex() // HTTP/1: read the body while answering; h2 always can
		stdin = r.Body
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.ExecTimeout)
	defer cancel()
	lw := newLazyWriter(w, execstream.ContentType)
	fw := execstream.NewWriter(lw, nil)
	ns, pod, ctr := r.PathValue("namespace"), r.PathValue("pod"), r.PathValue("container")
	stdout := startedWriter{fw.Stdout(), lw}
	code, err := s.cfg.Runtime.Exec(ctx, ns, pod, ctr, cmd, stdin, stdout, fw.Stderr())
	switch {
	case err == nil:
		fw.Exit(code)
	case !lw.hasStarted() && lookupError(err):
		writeError(w, err)
	case ctx.Err() != nil && r.Context().Err() == nil:
		fw.Error("the command ran longer than the node's exec limit of " + s.cfg.ExecTimeout.String() + " and was killed")
	default:
		fw.Error(err.Error())
	}
}

func lookupError(err error) bool {
	return errors.Is(err, runtime.ErrPodNotFound) || errors.Is(err, runtime.ErrContainerNotFound) || errors.Is(err, runtime.ErrNotRunning)
}

// startedWriter is the exec's stdout; Started (called by the runtime once
// the command runs) commits the answer, so that the caller sees the
// command has started before any output.
type startedWriter struct {
	io.Writer
	lw *lazyWriter
}

func (s startedWriter) Started() { s.lw.Started() }
