package api

import (
	"context"
	"net/http"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/store"
)

// listBody is a Kind+"List" response.
type listBody struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`
	Items           []object `json:"items"`
}

// get reads one object. resourceVersion=0 allows a stale local read.
func (s *Server) get(ctx context.Context, r *http.Request, rq *request) (object, error) {
	stale := r.URL.Query().Get("resourceVersion") == "0"
	o, err := s.store.Get(ctx, rq.res.key(rq.namespace, rq.name), store.ReadOptions{Stale: stale})
	if err != nil {
		return nil, storeError(err, rq.res, rq.name)
	}
	obj, err := rq.res.decodeStored(o)
	if err != nil {
		return nil, errInternal(err)
	}
	return obj, nil
}

// list answers a list with Kubernetes' resourceVersion semantics: "" is
// the latest state (linearizable), "0" any recent state (local read), N
// with resourceVersionMatch=Exact the state at revision N.
func (s *Server) list(ctx context.Context, r *http.Request, rq *request) (*listBody, error) {
	sel, err := parseSelector(r, rq.res)
	if err != nil {
		return nil, err
	}
	opts, err := listOptions(r, rq)
	if err != nil {
		return nil, err
	}
	lr, err := s.store.List(ctx, opts)
	if err != nil {
		return nil, storeError(err, rq.res, "")
	}
	body := &listBody{
		TypeMeta: metav1.TypeMeta{Kind: rq.res.Kind + "List", APIVersion: rq.res.APIVersion()},
		ListMeta: metav1.ListMeta{ResourceVersion: strconv.FormatUint(lr.Revision, 10)},
		Items:    []object{},
	}
	for _, o := range lr.Objects {
		obj, err := rq.res.decodeStored(o)
		if err != nil {
			return nil, errInternal(err)
		}
		if sel.matches(obj) {
			body.Items = append(body.Items, obj)
		}
	}
	return body, nil
}

func listOptions(r *http.Request, rq *request) (store.ListOptions, error) {
	q := r.URL.Query()
	opts := store.ListOptions{Resource: rq.res.Resource(), Namespace: rq.namespace}
	rv, match := q.Get("resourceVersion"), q.Get("resourceVersionMatch")
	var n uint64
	if rv != "" {
		var err error
		if n, err = strconv.ParseUint(rv, 10, 64); err != nil {
			return opts, errBadRequest("invalid resourceVersion %q: want a decimal revision", rv)
		}
	}
	switch match {
	case "":
		opts.Stale = rv == "0"
	case "Exact":
		if n == 0 {
			return opts, errBadRequest("resourceVersionMatch=Exact needs a non-zero resourceVersion")
		}
		opts.Revision = n
	case "NotOlderThan":
		if rv == "" {
			return opts, errBadRequest("resourceVersionMatch=NotOlderThan needs a resourceVersion")
		}
		opts.Stale = n == 0
	default:
		return opts, errBadRequest("invalid resourceVersionMatch %q: want Exact or NotOlderThan", match)
	}
	return opts, nil
}
