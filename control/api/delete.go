package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/store"
)

// deleteOptions reads the optional DeleteOptions body: preconditions,
// dryRun, gracePeriodSeconds, propagationPolicy and orphanDependents.
func (s *Server) deleteOptions(w http.ResponseWriter, r *http.Request, rq *request) (*metav1.DeleteOptions, error) {
	opts, err := queryDeleteOptions(r)
	if err != nil {
		return nil, err
	}
	data, err := s.readBody(w, r)
	if err != nil || len(data) == 0 {
		return opts, err
	}
	out, err := s.decodeInto(w, r, data, opts, metav1.SchemeGroupVersion.WithKind("DeleteOptions"))
	if err != nil {
		return nil, err
	}
	if _, ok := out.(*metav1.DeleteOptions); !ok {
		return nil, errBadRequest("the body of a DELETE must be DeleteOptions, not %s", out.GetObjectKind().GroupVersionKind().Kind)
	}
	if _, err := propagation(opts); err != nil {
		return nil, err
	}
	for _, v := range opts.DryRun {
		if v != "All" {
			return nil, errBadRequest("invalid dryRun value %q: the only supported value is All", v)
		}
		rq.dryRun = true
	}
	return opts, nil
}

// remove deletes one object, releasing a Service's allocations in the same
// Txn; a running pod is only marked for graceful deletion (pod_delete.go),
// and an object with finalizers (or that the DELETE's propagationPolicy
// gives one) only marked as being deleted (finalize.go).
// Preconditions on uid and resourceVersion answer 409 when they do not
// hold. The answer is the object's last state.
func (s *Server) remove(ctx context.Context, rq *request, opts *metav1.DeleteOptions) (object, error) {
	res := rq.res
	if res.Kind == "Namespace" && rq.sub != subInternal {
		return s.deleteNamespace(ctx, rq, opts)
	}
	key := res.key(rq.namespace, rq.name)
	for attempt := 0; attempt < maxAttempts; attempt++ {
		stored, err := s.store.Get(ctx, key, store.ReadOptions{})
		if err != nil {
			return nil, storeError(err, res, rq.name)
		}
		cur, err := res.decodeStored(stored)
		if err != nil {
			return nil, errInternal(err)
		}
		precond, err := checkPreconditions(res, cur, opts)
		if err != nil {
			return nil, err
		}
		if err := s.nodeRestriction(ctx, rq, nil, cur); err != nil {
			return nil, err
		}
		if rq.sub != subInternal {
			out, handled, err := s.deleteFinalizing(ctx, rq, stored, cur, opts, precond)
			if errors.Is(err, errRetry) {
				continue
			}
			if handled || err != nil {
				return out, err
			}
		}
		if rq.dryRun {
			return cur, nil
		}
		p := &plan{}
		var onFail func(store.Object) error
		if precond {
			onFail = fail(errStaleRevision(res, rq.name))
		}
		p.cond(store.Cond{Kind: store.RevisionIs, Key: key, Revision: stored.Revision}, onFail)
		i := p.del(key)
		if svc, ok := cur.(*corev1.Service); ok {
			s.alloc.release(p, svc)
		}
		tr, err := s.commit(ctx, p)
		if errors.Is(err, errRetry) {
			continue
		}
		if err != nil {
			return nil, storeError(err, res, rq.name)
		}
		return res.decodeStored(tr.Objects[i])
	}
	return nil, errConflict(res, rq.name, fmt.Sprintf("gave up after %d attempts racing with concurrent writes; retry", maxAttempts))
}

// checkPreconditions checks DeleteOptions.Preconditions against cur and
// reports whether a resourceVersion precondition was given.
func checkPreconditions(res *resource, cur object, opts *metav1.DeleteOptions) (bool, error) {
	pc := opts.Preconditions
	if pc == nil {
		return false, nil
	}
	if pc.UID != nil && *pc.UID != cur.GetUID() {
		return false, errConflict(res, cur.GetName(), fmt.Sprintf("Precondition failed: UID in precondition: %s, UID in object meta: %s", *pc.UID, cur.GetUID()))
	}
	if pc.ResourceVersion != nil && *pc.ResourceVersion != cur.GetResourceVersion() {
		return false, errConflict(res, cur.GetName(), fmt.Sprintf("Precondition failed: ResourceVersion in precondition: %s, ResourceVersion in object meta: %s", *pc.ResourceVersion, cur.GetResourceVersion()))
	}
	return pc.ResourceVersion != nil, nil
}
