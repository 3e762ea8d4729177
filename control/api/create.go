package api

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/weirnet/weir/control/store"
)

// create writes a new object: metadata and kind defaults, validation, the
// namespace must exist and be active, pods get LimitRange defaults and
// bounds, the object is charged to its namespace's ResourceQuotas, and
// Services get their ClusterIP and NodePorts, all in the same Txn.
func (s *Server) create(ctx context.Context, rq *request, obj object) (object, error) {
	res := rq.res
	if err := s.nodeRestriction(ctx, rq, obj, nil); err != nil {
		return nil, err
	}
	if err := s.prepareCreate(rq, obj); err != nil {
		return nil, err
	}
	if err := s.admitRBAC(ctx, rq, obj, nil); err != nil {
		return nil, err
	}
	if pod, ok := obj.(*corev1.Pod); ok {
		defaultRequestsFromLimits(pod)
		if err := s.admitPodServiceAccount(ctx, rq, pod); err != nil {
			return nil, err
		}
		if err := s.admitLimitRanges(ctx, rq, pod); err != nil {
			return nil, err
		}
	}
	if pvc, ok := obj.(*corev1.PersistentVolumeClaim); ok {
		if err := s.admitDefaultStorageClass(ctx, pvc); err != nil {
			return nil, err
		}
	}
	obj = s.fields.trackUpdate(rq, nil, obj)
	for attempt := 0; attempt < maxAttempts; attempt++ {
		o := obj.DeepCopyObject().(object)
		p := &plan{}
		key := res.key(o.GetNamespace(), o.GetName())
		p.cond(store.Cond{Kind: store.MustNotExist, Key: key}, fail(errAlreadyExists(res, o.GetName())))
		if res.Namespaced {
			if err := s.namespaceCond(ctx, p, rq, o.GetName(), o.GetNamespace(), attempt == 0); err != nil {
				return nil, err
			}
		}
		if q, ok := o.(*corev1.ResourceQuota); ok {
			if err := s.countQuota(ctx, q, true); err != nil {
				return nil, err
			}
		}
		if err := s.planQuota(ctx, p, rq, o, nil, false); err != nil {
			return nil, err
		}
		if svc, ok := o.(*corev1.Service); ok {
			if err := s.alloc.planService(ctx, s.store, p, svc, nil, rq.dryRun); err != nil {
				return nil, err
			}
		}
		if rq.dryRun {
			return o, nil
		}
		value, err := res.encodeStored(o)
		if err != nil {
			return nil, errInternal(err)
		}
		i := p.put(key, value)
		tr, err := s.commit(ctx, p)
		if errors.Is(err, errRetry) {
			continue
		}
		if err != nil {
			return nil, storeError(err, res, o.GetName())
		}
		out, err := res.decodeStored(tr.Objects[i])
		if err != nil {
			return nil, errInternal(err)
		}
		return out, nil
	}
	return nil, errConflict(res, obj.GetName(), fmt.Sprintf("gave up after %d attempts racing with concurrent writes; retry", maxAttempts))
}

// namespaceCond requires namespace ns to exist and be active, and adds a
// Cond that holds only while it is unchanged, so a create cannot race with
// the namespace's deletion.
func (s *Server) namespaceCond(ctx context.Context, p *plan, rq *request, name, ns string, stale bool) error {
	nsRes := s.reg.get("", "v1", "namespaces")
	// On the first attempt a stale local read is enough: the Cond below
	// makes the write fail if the namespace changed meanwhile, and then the
	// retry reads linearizably. "Not found" is always double-checked with a
	// linearizable read (the namespace may be brand new).
	o, err := s.store.Get(ctx, nsRes.key("", ns), store.ReadOptions{Stale: stale})
	if stale && errors.Is(err, store.ErrNotFound) {
		o, err = s.store.Get(ctx, nsRes.key("", ns), store.ReadOptions{})
	}
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound(nsRes, ns)
	}
	if err != nil {
		return storeError(err, nsRes, ns)
	}
	obj, err := nsRes.decodeStored(o)
	if err != nil {
		return errInternal(err)
	}
	if terminating(obj.(*corev1.Namespace)) {
		return errForbidden(rq.res, name, fmt.Errorf("unable to create new content in namespace %s because it is being terminated", ns))
	}
	p.cond(store.Cond{Kind: store.RevisionIs, Key: o.Key, Revision: o.Revision}, nil)
	return nil
}

func terminating(ns *corev1.Namespace) bool {
	return ns.DeletionTimestamp != nil || ns.Status.Phase == corev1.NamespaceTerminating
}
