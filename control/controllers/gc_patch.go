package controllers

import (
	"context"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/weirnet/weir/control/controllers/kube"
)

// objMeta reads only the metadata of an object of any kind.
type objMeta struct {
	Metadata metav1.ObjectMeta `json:"metadata"`
}

// liveMeta reads obj's current metadata from the API (not the cache);
// false when it is gone or is another object by now.
func (m *Manager) liveMeta(ctx context.Context, k kube.Kind, obj metav1.Object) (metav1.ObjectMeta, bool) {
	var cur objMeta
	err := m.c.Get(ctx, k, obj.GetNamespace(), obj.GetName(), &cur)
	if err != nil {
		if !apierrors.IsNotFound(err) {
			m.warn("read "+k.Resource, obj.(kube.Object), err)
		}
		return cur.Metadata, false
	}
	return cur.Metadata, cur.Metadata.UID == obj.GetUID()
}

// patchMeta merge-patches one metadata field of obj, conditional on the
// resourceVersion read (a conflict is settled by the next round).
func (m *Manager) patchMeta(ctx context.Context, k kube.Kind, obj metav1.Object, rv, field string, value any) bool {
	patch := map[string]any{"metadata": map[string]any{field: value, "resourceVersion": rv}}
	if err := m.c.MergePatch(ctx, k, obj.GetNamespace(), obj.GetName(), patch, nil); err != nil {
		m.warnUnlessRace("update "+field+" of "+k.Resource, obj.(kube.Object), err)
		return false
	}
	return true
}

// orphanDependent removes d's ownerReferences to owner uid (orphan
// deletion of the owner).
func (m *Manager) orphanDependent(ctx context.Context, k kube.Kind, d metav1.Object, uid types.UID) {
	cur, ok := m.liveMeta(ctx, k, d)
	if !ok {
		return
	}
	refs := slices.DeleteFunc(slices.Clone(cur.OwnerReferences), func(r metav1.OwnerReference) bool { return r.UID == uid })
	if len(refs) == len(cur.OwnerReferences) {
		return
	}
	if m.patchMeta(ctx, k, d, cur.ResourceVersion, "ownerReferences", refs) {
		m.log.Debug("orphaned dependent", "resource", k.Resource, "object", kube.Key(d.GetNamespace(), d.GetName()), "owner", uid)
	}
}

// removeFinalizer removes finalizer fin from owner o; the API deletes o
// when it was the last one.
func (m *Manager) removeFinalizer(ctx context.Context, o owner, fin string) {
	cur, ok := m.liveMeta(ctx, o.kind, o.obj)
	if !ok || !slices.Contains(cur.Finalizers, fin) {
		return
	}
	rest := slices.DeleteFunc(slices.Clone(cur.Finalizers), func(f string) bool { return f == fin })
	if m.patchMeta(ctx, o.kind, o.obj, cur.ResourceVersion, "finalizers", rest) {
		m.log.Debug("removed finalizer", "finalizer", fin, "resource", o.kind.Resource, "object", kube.Key(o.obj.GetNamespace(), o.obj.GetName()))
	}
}
