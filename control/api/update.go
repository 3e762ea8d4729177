package api

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"

	"github.com/weirnet/weir/control/quota"
	"github.com/weirnet/weir/control/store"
)

// mutator computes the desired object from the current one. It may modify
// and return cur.
type mutator func(cur object) (object, error)

// update is the read-modify-write loop behind PUT, PATCH, status, binding
// and scale. precond, when non-zero, is a resourceVersion the client
// required (409 when the object moved on); otherwise a write that raced
// with another is retried on the fresh object.
func (s *Server) update(ctx context.Context, rq *request, mutate mutator, precond uint64) (object, error) {
	res := rq.res
	key := res.key(rq.namespace, rq.name)
	for attempt := 0; attempt < maxAttempts; attempt++ {
		stored, err := s.store.Get(ctx, key, store.ReadOptions{})
		if err != nil {
			return nil, storeError(err, res, rq.name)
		}
		if precond != 0 && stored.Revision != precond {
			return nil, errStaleRevision(res, rq.name)
		}
		old, err := res.decodeStored(stored)
		if err != nil {
			return nil, errInternal(err)
		}
		cur, err := res.decodeStored(stored)
		if err != nil {
			return nil, errInternal(err)
		}
		desired, err := mutate(cur)
		if err != nil {
			return nil, err
		}
		obj, err := s.prepareUpdate(rq, desired, old)
		if err != nil {
			return nil, err
		}
		if err := s.admitRBAC(ctx, rq, obj, old); err != nil {
			return nil, err
		}
		obj = s.fields.trackUpdate(rq, old, obj)
		keepManagedTimes(res, obj, old)
		out, err := s.commitUpdate(ctx, rq, obj, old, stored, precond)
		if errors.Is(err, errRetry) {
			continue
		}
		return out, err
	}
	return nil, errConflict(res, rq.name, fmt.Sprintf("gave up after %d attempts racing with concurrent writes; retry", maxAttempts))
}

func (s *Server) commitUpdate(ctx context.Context, rq *request, obj, old object, stored store.Object, precond uint64) (object, error) {
	res := rq.res
	if err := s.nodeRestriction(ctx, rq, obj, old); err != nil {
		return nil, err
	}
	if rq.sub != subInternal && finalized(obj) {
		return s.deleteFinalized(ctx, rq, obj, old, stored, precond)
	}
	if q, ok := obj.(*corev1.ResourceQuota); ok && rq.sub != "status" && rq.sub != subInternal &&
		!quota.Equal(q.Spec.Hard, q.Status.Hard) {
		if err := s.countQuota(ctx, q, false); err != nil {
			return nil, err
		}
	}
	value, err := res.encodeStored(obj)
	if err != nil {
		return nil, errInternal(err)
	}
	oldValue, err := res.encodeStored(old)
	if err != nil {
		return nil, errInternal(err)
	}
	if string(value) == string(oldValue) {
		return old, nil // nothing changed: no write, no event, like kube-apiserver
	}
	p := &plan{}
	var onFail func(store.Object) error
	if precond != 0 {
		onFail = fail(errStaleRevision(res, rq.name))
	}
	p.cond(store.Cond{Kind: store.RevisionIs, Key: stored.Key, Revision: stored.Revision}, onFail)
	if rq.sub != subInternal {
		if err := s.planQuota(ctx, p, rq, obj, old, true); err != nil {
			return nil, err
		}
	}
	if svc, ok := obj.(*corev1.Service); ok {
		if err := s.alloc.planService(ctx, s.store, p, svc, old.(*corev1.Service), rq.dryRun); err != nil {
			return nil, err
		}
		if value, err = res.encodeStored(obj); err != nil {
			return nil, errInternal(err)
		}
	}
	if rq.dryRun {
		return obj, nil
	}
	i := p.put(stored.Key, value)
	tr, err := s.commit(ctx, p)
	if err != nil {
		if errors.Is(err, errRetry) {
			return nil, err
		}
		return nil, storeError(err, res, rq.name)
	}
	out, err := res.decodeStored(tr.Objects[i])
	if err != nil {
		return nil, errInternal(err)
	}
	return out, nil
}

// replace is PUT on an object or its status: the body is the desired
// object; a resourceVersion in it is a precondition.
func (s *Server) replace(ctx context.Context, rq *request, body object) (object, error) {
	if err := checkBodyIdentity(rq, body, rq.name); err != nil {
		return nil, err
	}
	precond, err := parseRevision(body.GetResourceVersion())
	if err != nil {
		return nil, err
	}
	return s.update(ctx, rq, func(object) (object, error) {
		return body.DeepCopyObject().(object), nil
	}, precond)
}

// parseRevision parses a resourceVersion ("" is 0: no precondition).
func parseRevision(rv string) (uint64, error) {
	if rv == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(rv, 10, 64)
	if err != nil || n == 0 {
		return 0, errBadRequest("invalid resourceVersion %q: want the decimal revision from a previous read", rv)
	}
	return n, nil
}
