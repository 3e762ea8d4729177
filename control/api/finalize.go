package api

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/store"
)

// The garbage collector's finalizers, as in Kubernetes: DELETE with
// propagationPolicy Foreground or Orphan adds one, and control/controllers
// removes it once the dependents are deleted or orphaned.
const (
	FinalizerForeground = metav1.FinalizerDeleteDependents // "foregroundDeletion"
	FinalizerOrphan     = metav1.FinalizerOrphanDependents // "orphan"
)

// queryPropagation reads ?propagationPolicy= and ?orphanDependents= into
// opts (a DeleteOptions body may override them).
func queryPropagation(r map[string][]string, opts *metav1.DeleteOptions) error {
	if v := first(r["propagationPolicy"]); v != "" {
		p := metav1.DeletionPropagation(v)
		opts.PropagationPolicy = &p
	}
	if v := first(r["orphanDependents"]); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errBadRequest("invalid orphanDependents %q: want true or false (or use propagationPolicy)", v)
		}
		opts.OrphanDependents = &b
	}
	return nil
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// propagation is the policy a DELETE asks for: "" when it names none
// (the object's garbage-collection finalizers are then left as they are).
// The legacy orphanDependents maps to Orphan (true) or Background (false).
func propagation(opts *metav1.DeleteOptions) (metav1.DeletionPropagation, error) {
	if opts.OrphanDependents != nil && opts.PropagationPolicy != nil {
		return "", errBadRequest("orphanDependents and propagationPolicy cannot both be set: use propagationPolicy only")
	}
	if o := opts.OrphanDependents; o != nil {
		if *o {
			return metav1.DeletePropagationOrphan, nil
		}
		return metav1.DeletePropagationBackground, nil
	}
	if opts.PropagationPolicy == nil {
		return "", nil
	}
	switch p := *opts.PropagationPolicy; p {
	case metav1.DeletePropagationForeground, metav1.DeletePropagationBackground, metav1.DeletePropagationOrphan:
		return p, nil
	default:
		return "", errBadRequest("invalid propagationPolicy %q: want Background, Foreground or Orphan", p)
	}
}

// applyPropagation adds the finalizer the policy asks for to obj and drops
// the other garbage-collection one (Background drops both), and reports
// whether the finalizers changed.
func applyPropagation(obj object, p metav1.DeletionPropagation) bool {
	var add, drop []string
	switch p {
	case metav1.DeletePropagationForeground:
		add, drop = []string{FinalizerForeground}, []string{FinalizerOrphan}
	case metav1.DeletePropagationOrphan:
		add, drop = []string{FinalizerOrphan}, []string{FinalizerForeground}
	case metav1.DeletePropagationBackground:
		drop = []string{FinalizerForeground, FinalizerOrphan}
	}
	old := obj.GetFinalizers()
	fin := slices.DeleteFunc(slices.Clone(old), func(f string) bool { return slices.Contains(drop, f) })
	for _, f := range add {
		if !slices.Contains(fin, f) {
			fin = append(fin, f)
		}
	}
	if slices.Equal(fin, old) {
		return false
	}
	obj.SetFinalizers(fin)
	return true
}

// markDeleting is remove's path for an object that still has finalizers:
// it is kept with metadata.deletionTimestamp (now, unless already set)
// and deletionGracePeriodSeconds 0, and goes once an update removes its
// last finalizer. finChanged says the DELETE changed its finalizers.
func (s *Server) markDeleting(ctx context.Context, rq *request, stored store.Object, cur object, precond, finChanged bool) (object, error) {
	zero := int64(0)
	changed := finChanged
	if cur.GetDeletionTimestamp() == nil {
		now := metav1.NewTime(time.Now())
		cur.SetDeletionTimestamp(&now)
		changed = true
	}
	if g := cur.GetDeletionGracePeriodSeconds(); g == nil || *g != 0 {
		cur.SetDeletionGracePeriodSeconds(&zero)
		changed = true
	}
	if !changed || rq.dryRun {
		return cur, nil
	}
	if cur.GetGeneration() > 0 {
		cur.SetGeneration(cur.GetGeneration() + 1)
	}
	return s.putConditioned(ctx, rq, stored, cur, precond)
}

// putConditioned writes obj over stored, conditioned on stored's
// revision (409 when precond, else errRetry when it moved on).
func (s *Server) putConditioned(ctx context.Context, rq *request, stored store.Object, obj object, precond bool) (object, error) {
	value, err := rq.res.encodeStored(obj)
	if err != nil {
		return nil, errInternal(err)
	}
	p := &plan{}
	var onFail func(store.Object) error
	if precond {
		onFail = fail(errStaleRevision(rq.res, rq.name))
	}
	p.cond(store.Cond{Kind: store.RevisionIs, Key: stored.Key, Revision: stored.Revision}, onFail)
	i := p.put(stored.Key, value)
	tr, err := s.commit(ctx, p)
	if errors.Is(err, errRetry) {
		return nil, err
	}
	if err != nil {
		return nil, storeError(err, rq.res, rq.name)
	}
	out, err := rq.res.decodeStored(tr.Objects[i])
	if err != nil {
		return nil, errInternal(err)
	}
	return out, nil
}

// finalized reports whether an update leaves obj ready to go: being
// deleted, no finalizers left, and no grace period still running (a pod
// whose agent has not yet reported it stopped keeps its grace). Namespaces
// have their own deletion (namespace.go) and never qualify.
func finalized(obj object) bool {
	if _, ok := obj.(*corev1.Namespace); ok {
		return false
	}
	if obj.GetDeletionTimestamp() == nil || len(obj.GetFinalizers()) > 0 {
		return false
	}
	g := obj.GetDeletionGracePeriodSeconds()
	return g == nil || *g == 0
}

// deleteFinalized is commitUpdate's path for an update that removed the
// last finalizer of an object being deleted: the object is deleted, in a
// Txn conditioned on the revision the update read (a Service's
// allocations are released with it). The answer is its last state.
func (s *Server) deleteFinalized(ctx context.Context, rq *request, obj, old object, stored store.Object, precond uint64) (object, error) {
	if rq.dryRun {
		return obj, nil
	}
	p := &plan{}
	var onFail func(store.Object) error
	if precond != 0 {
		onFail = fail(errStaleRevision(rq.res, rq.name))
	}
	p.cond(store.Cond{Kind: store.RevisionIs, Key: stored.Key, Revision: stored.Revision}, onFail)
	i := p.del(stored.Key)
	if svc, ok := old.(*corev1.Service); ok {
		s.alloc.release(p, svc)
	}
	tr, err := s.commit(ctx, p)
	if err != nil {
		if errors.Is(err, errRetry) {
			return nil, err
		}
		return nil, storeError(err, rq.res, rq.name)
	}
	out, err := rq.res.decodeStored(tr.Objects[i])
	if err != nil {
		return nil, errInternal(err)
	}
	return out, nil
}

// deleteFinalizing is remove's hook before it deletes: it applies the
// DELETE's propagationPolicy to the object's finalizers, lets a running
// pod terminate gracefully, and keeps an object that has finalizers,
// marked as being deleted. handled is false when remove should delete
// the object now; errRetry asks it to read again.
func (s *Server) deleteFinalizing(ctx context.Context, rq *request, stored store.Object, cur object, opts *metav1.DeleteOptions, precond bool) (object, bool, error) {
	pol, err := propagation(opts)
	if err != nil {
		return nil, true, err
	}
	finChanged := applyPropagation(cur, pol)
	if pod, ok := cur.(*corev1.Pod); ok {
		out, handled, err := s.deletePodGracefully(ctx, rq, stored, pod, opts, precond, finChanged)
		if handled || err != nil {
			return out, true, err
		}
	}
	if len(cur.GetFinalizers()) == 0 {
		return nil, false, nil
	}
	out, err := s.markDeleting(ctx, rq, stored, cur, precond, finChanged)
	return out, true, err
}
