package api

import (
	"net/http"
)

// dispatch runs the handler for a parsed resource request.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request, rq *request) {
	if isProxySub(rq.sub) {
		s.serveNodeProxy(w, r, rq) // text/plain and exec streams: not JSON/YAML
		return
	}
	if _, err := wantsYAML(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	if rq.verb == "watch" {
		s.serveWatch(w, r, rq)
		return
	}
	code, out, err := s.handle(w, r, rq)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeObject(w, r, code, out)
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request, rq *request) (int, any, error) {
	ctx := r.Context()
	switch {
	case rq.sub == "scale":
		return s.handleScale(w, r, rq)
	case rq.sub == "binding":
		return s.bind(w, r, rq)
	}
	var obj any
	var err error
	code := http.StatusOK
	switch rq.verb {
	case "get":
		obj, err = s.get(ctx, r, rq)
	case "list":
		obj, err = s.list(ctx, r, rq)
	case "create":
		var body object
		if body, err = s.decodeBody(w, r, rq.res); err == nil {
			obj, err = s.create(ctx, rq, body)
			code = http.StatusCreated
		}
	case "update":
		var body object
		if body, err = s.decodeBody(w, r, rq.res); err == nil {
			obj, err = s.replace(ctx, rq, body)
		}
	case "patch":
		obj, err = s.patch(ctx, w, r, rq)
	case "delete":
		obj, err = s.deleteHandler(w, r, rq)
	}
	return code, obj, err
}

func (s *Server) deleteHandler(w http.ResponseWriter, r *http.Request, rq *request) (object, error) {
	opts, err := s.deleteOptions(w, r, rq)
	if err != nil {
		return nil, err
	}
	return s.remove(r.Context(), rq, opts)
}
