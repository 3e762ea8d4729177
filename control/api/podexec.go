package api

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/weirnet/weir/control/api/execstream"
)

// servePodExec answers POST .../pods/{name}/exec?container=&command=ARG...&stdin=
// by running the command in the container through its node's API. The
// answer is an execstream (see package execstream): stdout and stderr
// frames, then the exit code. With stdin=true the request body is the
// command's stdin, streamed; otherwise the command reads EOF. There is no
// terminal (tty is refused).
func (s *Server) servePodExec(w http.ResponseWriter, r *http.Request, rq *request) error {
	q := r.URL.Query()
	cmd := q["command"]
	if len(cmd) == 0 || cmd[0] == "" {
		return errBadRequest("you must specify at least one command for the container (command=ARG, one per argument)")
	}
	if tty, _ := strconv.ParseBool(q.Get("tty")); tty {
		return errBadRequest("tty=true is not supported: weir exec runs commands without a terminal")
	}
	stdin, _ := strconv.ParseBool(q.Get("stdin"))
	ctx := r.Context()
	t, err := s.podTarget(ctx, rq, q.Get("container"))
	if err != nil {
		return err
	}
	if err := podFinished(t.pod); err != nil {
		return err
	}
	nq := url.Values{"command": cmd}
	var body *http.Request
	if stdin {
		nq.Set("stdin", "true")
		http.NewResponseController(w).EnableFullDuplex() // HTTP/1: keep reading stdin while answering
		body = r
	}
	resp, err := s.callNode(ctx, t, http.MethodPost, podPath("exec", t), nq, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nodeError(t, resp)
	}
	w.Header().Set("Content-Type", execstream.ContentType)
	w.WriteHeader(http.StatusOK)
	copyFlushing(w, resp.Body)
	return nil
}
