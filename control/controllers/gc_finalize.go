package controllers

import (
	"context"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/weirnet/weir/control/controllers/kube"
)

// The garbage collector's finalizers (set by the API on a DELETE with
// propagationPolicy Foreground or Orphan).
const (
	finalizerForeground = metav1.FinalizerDeleteDependents // "foregroundDeletion"
	finalizerOrphan     = metav1.FinalizerOrphanDependents // "orphan"
)

// owner is a cached object of a kind, possibly the owner of dependents.
type owner struct {
	kind kube.Kind
	obj  metav1.Object
}

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

// dependentsOf are the dependents with an ownerReference to uid.
func dependentsOf(deps []dependent, uid types.UID) []dependent {
	var out []dependent
	for _, d := range deps {
		for _, r := range d.obj.GetOwnerReferences() {
			if r.UID == uid {
				out = append(out, d)
				break
			}
		}
	}
	return out
}

// finalizingOwners are the cached objects being deleted that carry a GC
// finalizer. Namespaces have their own deletion in the API.
func (m *Manager) finalizingOwners() []owner {
	var out []owner
	collect := func(k kube.Kind, objs []metav1.Object) {
		for _, o := range objs {
			fin := o.GetFinalizers()
			if o.GetDeletionTimestamp() != nil && (slices.Contains(fin, finalizerForeground) || slices.Contains(fin, finalizerOrphan)) {
				out = append(out, owner{kind: k, obj: o})
			}
		}
	}
	collect(kube.Deployments, asObjects(m.inf.deployments.List()))
	collect(kube.ReplicaSets, asObjects(m.inf.replicasets.List()))
	collect(kube.Jobs, asObjects(m.inf.jobs.List()))
	collect(kube.Pods, asObjects(m.inf.pods.List()))
	collect(kube.Services, asObjects(m.inf.services.List()))
	collect(kube.Endpoints, asObjects(m.inf.endpoints.List()))
	collect(kube.EndpointSlices, asObjects(m.inf.slices.List()))
	collect(kube.ServiceAccounts, asObjects(m.inf.accounts.List()))
	collect(kube.Nodes, asObjects(m.inf.nodes.List()))
	return out
}

// syncFinalizers takes every owner being deleted with a GC finalizer one
// step further (PlanFinalizer).
func (m *Manager) syncFinalizers(ctx context.Context) {
	owners := m.finalizingOwners()
	if len(owners) == 0 {
		return
	}
	deps := m.dependents()
	for _, o := range owners {
		if ctx.Err() != nil {
			return
		}
		mine := dependentsOf(deps, o.obj.GetUID())
		kinds := map[metav1.Object]kube.Kind{}
		objs := make([]metav1.Object, len(mine))
		for i, d := range mine {
			objs[i], kinds[d.obj] = d.obj, d.kind
		}
		step := PlanFinalizer(o.obj, objs)
		for _, d := range step.Orphan {
			m.orphanDependent(ctx, kinds[d], d, o.obj.GetUID())
		}
		for _, d := range step.Delete {
			m.deleteDependent(ctx, kinds[d], d, o)
		}
		if step.Remove != "" {
			m.removeFinalizer(ctx, o, step.Remove)
		}
	}
}

// deleteDependent deletes d (if it is still that object) with foreground
// propagation, on behalf of owner o.
func (m *Manager) deleteDependent(ctx context.Context, k kube.Kind, d metav1.Object, o owner) {
	err := m.c.DeletePropagating(ctx, k, d.GetNamespace(), d.GetName(), d.GetUID(), metav1.DeletePropagationForeground, nil)
	if err != nil && !apierrors.IsNotFound(err) {
		m.warnUnlessRace("delete dependent", d.(kube.Object), err)
		return
	}
	m.log.Debug("deleted dependent in the foreground", "resource", k.Resource, "object", kube.Key(d.GetNamespace(), d.GetName()),
		"owner", o.kind.Resource+"/"+kube.Key(o.obj.GetNamespace(), o.obj.GetName()))
}
