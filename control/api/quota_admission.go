package api

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/weirnet/weir/control/quota"
	"github.com/weirnet/weir/control/store"
)

// admitLimitRanges is kube's LimitRanger for a pod being created: the
// namespace's LimitRanges default its containers' requests and limits
// (then the pod is validated again: 422), and bound them (403 Forbidden
// with kube's message). They are read from this member's state, as kube
// reads them from an informer's cache.
func (s *Server) admitLimitRanges(ctx context.Context, rq *request, pod *corev1.Pod) error {
	lrRes := s.reg.get("", "v1", "limitranges")
	objs, err := s.listNamespace(ctx, lrRes, pod.Namespace, true)
	if err != nil {
		return err
	}
	if len(objs) == 0 {
		return nil
	}
	lrs := make([]corev1.LimitRange, len(objs))
	for i, o := range objs {
		lrs[i] = *o.(*corev1.LimitRange)
	}
	if quota.DefaultPod(lrs, pod) {
		if errs := rq.res.validate(pod, nil); len(errs) > 0 {
			return errInvalid(rq.res, pod.Name, errs)
		}
	}
	if err := quota.CheckPod(lrs, pod); err != nil {
		return errForbidden(rq.res, pod.Name, err)
	}
	return nil
}

// planQuota charges a create (old nil), or an update that raises usage,
// to the quotas of its namespace: each charged quota's new status.used
// is written in the plan's Txn, conditioned on the revision read, so
// that writes charging one quota serialize on it (control/quota's doc).
// A write a quota cannot take is a 403 with kube's message. stale reads
// the quotas from this member's state, for an update, which read the
// object linearizably just before; a create reads them linearizably, so
// that a quota created before the request began is never missed, even
// through a member that has not applied it yet.
func (s *Server) planQuota(ctx context.Context, p *plan, rq *request, obj, old object, stale bool) error {
	res := rq.res
	if !res.Namespaced || (old != nil && !quota.ChargesUpdates(res.Plural, res.Group)) {
		return nil
	}
	qRes := s.reg.get("", "v1", "resourcequotas")
	stored, err := s.store.List(ctx, store.ListOptions{ReadOptions: store.ReadOptions{Stale: stale}, Resource: qRes.Resource(), Namespace: obj.GetNamespace()})
	if err != nil {
		return storeError(err, qRes, "")
	}
	if len(stored.Objects) == 0 {
		return nil
	}
	quotas := make([]corev1.ResourceQuota, len(stored.Objects))
	for i, so := range stored.Objects {
		o, err := qRes.decodeStored(so)
		if err != nil {
			return errInternal(err)
		}
		quotas[i] = *o.(*corev1.ResourceQuota)
	}
	var oldObj runtime.Object
	if old != nil {
		oldObj = old
	}
	charged, err := quota.Admit(quotas, res.Plural, res.Group, obj, oldObj, time.Now())
	if err != nil {
		return errForbidden(res, obj.GetName(), err)
	}
	for _, i := range charged {
		value, err := qRes.encodeStored(&quotas[i])
		if err != nil {
			return errInternal(err)
		}
		so := stored.Objects[i]
		p.cond(store.Cond{Kind: store.RevisionIs, Key: so.Key, Revision: so.Revision}, nil)
		p.put(so.Key, value)
	}
	return nil
}

// countQuota sets a ResourceQuota's status from its spec: status.hard is
// spec.hard and status.used what the namespace uses now (self counts
// itself, being created). The quota controller keeps it current after.
func (s *Server) countQuota(ctx context.Context, q *corev1.ResourceQuota, creating bool) error {
	used, err := quota.Recount(q.Spec.Hard, func(plural, group string) ([]runtime.Object, error) {
		r := s.servedResource(group, plural)
		if r == nil {
			return nil, nil // a standard name of a kind weir does not serve: none exist
		}
		objs, err := s.listNamespace(ctx, r, q.Namespace, false)
		if err != nil {
			return nil, err
		}
		out := make([]runtime.Object, 0, len(objs)+1)
		for _, o := range objs {
			out = append(out, o)
		}
		if plural == "resourcequotas" && group == "" && creating {
			out = append(out, q)
		}
		return out, nil
	}, time.Now())
	if err != nil {
		return errInternal(err)
	}
	q.Status = corev1.ResourceQuotaStatus{Hard: q.Spec.Hard.DeepCopy(), Used: used}
	return nil
}

// listNamespace reads every object of res in namespace ns (linearizable
// unless stale).
func (s *Server) listNamespace(ctx context.Context, res *resource, ns string, stale bool) ([]object, error) {
	l, err := s.store.List(ctx, store.ListOptions{ReadOptions: store.ReadOptions{Stale: stale}, Resource: res.Resource(), Namespace: ns})
	if err != nil {
		return nil, storeError(err, res, "")
	}
	out := make([]object, 0, len(l.Objects))
	for _, so := range l.Objects {
		o, err := res.decodeStored(so)
		if err != nil {
			return nil, errInternal(err)
		}
		out = append(out, o)
	}
	return out, nil
}

// servedResource is the served resource of a group and plural, nil when
// weir does not serve it.
func (s *Server) servedResource(group, plural string) *resource {
	for _, r := range s.reg.list {
		if r.Group == group && r.Plural == plural {
			return r
		}
	}
	return nil
}
