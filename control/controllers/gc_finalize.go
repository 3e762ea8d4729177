package controllers

import (
	"context"
	"errors"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/controllers/kube"
)

// The garbage collector's finalizers (set by the API on a DELETE with
// propagationPolicy Foreground or Orphan).
const (
	finalizerForeground = metav1.FinalizerDeleteDependents // "foregroundDeletion"
	finalizerOrphan     = metav1.FinalizerOrphanDependents // "orphan"
)

// FinalizerStep is what the garbage collector does next for one owner
// being deleted with a GC finalizer.
type FinalizerStep struct {
	// Orphan: dependents whose ownerReferences to the owner to remove.
	Orphan []metav1.Object
	// Delete: dependents to delete with foreground propagation.
	Delete []metav1.Object
	// Remove: the finalizer to remove from the owner now ("" when it must
	// still wait).
	Remove string
}

// PlanFinalizer decides the next step for owner o, being deleted, given
// the dependents that still reference its UID: with "orphan" it first
// removes those references, then the finalizer; with "foregroundDeletion"
// it deletes the dependents not yet being deleted (foreground too, so
// that theirs go first) and removes the finalizer once none is left
// (Kubernetes waits only for blockOwnerDeletion ones; weir waits for
// all). An object with neither finalizer, or not being deleted, needs
// nothing.
func PlanFinalizer(o metav1.Object, deps []metav1.Object) FinalizerStep {
	fin := o.GetFinalizers()
	if o.GetDeletionTimestamp() == nil {
		return FinalizerStep{}
	}
	switch {
	case slices.Contains(fin, finalizerOrphan):
		if len(deps) > 0 {
			return FinalizerStep{Orphan: deps}
		}
		return FinalizerStep{Remove: finalizerOrphan}
	case slices.Contains(fin, finalizerForeground):
		if len(deps) == 0 {
			return FinalizerStep{Remove: finalizerForeground}
		}
		var del []metav1.Object
		for _, d := range deps {
			if d.GetDeletionTimestamp() == nil {
				del = append(del, d)
			}
		}
		return FinalizerStep{Delete: del}
	}
	return FinalizerStep{}
}

// finalizing reports whether o is being deleted with a GC finalizer.
// Namespaces have their own deletion in the API.
func finalizing(o metav1.Object) bool {
	fin := o.GetFinalizers()
	return o.GetDeletionTimestamp() != nil && (slices.Contains(fin, finalizerForeground) || slices.Contains(fin, finalizerOrphan))
}

// finalize takes owner o, being deleted with a GC finalizer, one step
// further (PlanFinalizer) over its cached dependents.
func (m *Manager) finalize(ctx context.Context, k *gcKind, o metav1.Object) error {
	mine := m.dependentsOf(o.GetUID())
	kinds := map[metav1.Object]*gcKind{}
	objs := make([]metav1.Object, len(mine))
	for i, d := range mine {
		objs[i], kinds[d.obj] = d.obj, d.kind
	}
	step := PlanFinalizer(o, objs)
	var errs []error
	for _, d := range step.Orphan {
		errs = append(errs, m.orphanDependent(ctx, kinds[d], d, o.GetUID()))
	}
	for _, d := range step.Delete {
		errs = append(errs, m.deleteDependent(ctx, kinds[d], d, k, o))
	}
	if step.Remove != "" {
		errs = append(errs, m.removeFinalizer(ctx, k, o, step.Remove))
	}
	return errors.Join(errs...)
}

// deleteDependent deletes d (if it is still that object) with foreground
// propagation, on behalf of owner o of kind ok.
func (m *Manager) deleteDependent(ctx context.Context, k *gcKind, d metav1.Object, ok *gcKind, o metav1.Object) error {
	uid, policy := d.GetUID(), metav1.DeletePropagationForeground
	err := m.delete(ctx, k, d, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}, PropagationPolicy: &policy})
	if err != nil && !apierrors.IsNotFound(err) {
		m.warnUnlessRace("delete dependent", d, err)
		return err
	}
	m.log.Debug("deleted dependent in the foreground", "resource", k.resource, "object", kube.Key(d.GetNamespace(), d.GetName()),
		"owner", ok.resource+"/"+kube.Key(o.GetNamespace(), o.GetName()))
	return nil
}
