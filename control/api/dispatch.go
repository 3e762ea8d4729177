package api

import (
	"net/http"

	"k8s.io/apimachinery/pkg/runtime"
)

// dispatch runs the handler for a parsed resource request.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request, rq *request) {
	if isProxySub(rq.sub) {
		s.serveNodeProxy(w, r, rq) // text/plain and exec streams: not JSON/YAML
		return
	}
	if _, _, err := s.negotiate(r, true); err != nil && rq.verb != "watch" {
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
	case rq.sub == "token":
		return s.tokenRequest(w, r, rq)
	case rq.sub == "eviction":
		return s.evict(w, r, rq)
	}
	var obj any
	var err error
	code := http.StatusOK
	switch rq.verb {
	case "get":
		obj, err = s.get(ctx, r, rq)
	case "list":
		var lb *listBody
		if lb, err = s.list(ctx, r, rq); err == nil {
			obj, err = s.typedList(rq.res, lb)
		}
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
		var created bool
		if obj, created, err = s.patch(ctx, w, r, rq); created {
			code = http.StatusCreated
		}
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

// typedList turns a list answer into the kind's typed list (PodList, ...).
func (s *Server) typedList(res *resource, lb *listBody) (runtime.Object, error) {
	items := make([]runtime.Object, len(lb.Items))
	for i, it := range lb.Items {
		items[i] = it
	}
	list, err := s.codecs.listOf(res, items, lb.ListMeta)
	if err != nil {
		return nil, errInternal(err)
	}
	return list, nil
}
