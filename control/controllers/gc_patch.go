package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/weirnet/weir/control/controllers/kube"
)

// live reads the current state of an object of kind k from the API (not
// the cache), through the REST client of its group.
func (m *Manager) live(ctx context.Context, k *gcKind, ns, name string) (metav1.Object, error) {
	obj, err := k.rc.Get().NamespaceIfScoped(ns, k.namespaced).Resource(k.resource).Name(name).Do(ctx).Get()
	if err != nil {
		return nil, err
	}
	return meta.Accessor(obj)
}

// delete deletes obj of kind k with opts.
func (m *Manager) delete(ctx context.Context, k *gcKind, obj metav1.Object, opts metav1.DeleteOptions) error {
	return k.rc.Delete().NamespaceIfScoped(obj.GetNamespace(), k.namespaced).Resource(k.resource).Name(obj.GetName()).
		Body(&opts).Do(ctx).Error()
}

// liveMeta reads obj's current metadata from the API (not the cache);
// false when it is gone or is another object by now.
func (m *Manager) liveMeta(ctx context.Context, k *gcKind, obj metav1.Object) (metav1.Object, bool) {
	cur, err := m.live(ctx, k, obj.GetNamespace(), obj.GetName())
	if err != nil {
		if !apierrors.IsNotFound(err) {
			m.warn("read "+k.resource, obj, err)
		}
		return nil, false
	}
	return cur, cur.GetUID() == obj.GetUID()
}

// patchMeta merge-patches one metadata field of obj, conditional on the
// resourceVersion read (a conflict is settled by a retry).
func (m *Manager) patchMeta(ctx context.Context, k *gcKind, obj metav1.Object, rv, field string, value any) error {
	data, err := json.Marshal(map[string]any{"metadata": map[string]any{field: value, "resourceVersion": rv}})
	if err != nil {
		return fmt.Errorf("encode patch of %s: %w", field, err)
	}
	err = k.rc.Patch(types.MergePatchType).NamespaceIfScoped(obj.GetNamespace(), k.namespaced).Resource(k.resource).
		Name(obj.GetName()).Body(data).Do(ctx).Error()
	if err != nil {
		m.warnUnlessRace("update "+field+" of "+k.resource, obj, err)
	}
	return err
}

// orphanDependent removes d's ownerReferences to owner uid (orphan
// deletion of the owner).
func (m *Manager) orphanDependent(ctx context.Context, k *gcKind, d metav1.Object, uid types.UID) error {
	cur, ok := m.liveMeta(ctx, k, d)
	if !ok {
		return nil
	}
	have := cur.GetOwnerReferences()
	refs := slices.DeleteFunc(slices.Clone(have), func(r metav1.OwnerReference) bool { return r.UID == uid })
	if len(refs) == len(have) {
		return nil
	}
	if err := m.patchMeta(ctx, k, d, cur.GetResourceVersion(), "ownerReferences", refs); err != nil {
		return err
	}
	m.log.Debug("orphaned dependent", "resource", k.resource, "object", kube.Key(d.GetNamespace(), d.GetName()), "owner", uid)
	return nil
}

// removeFinalizer removes finalizer fin from owner o; the API deletes o
// when it was the last one.
func (m *Manager) removeFinalizer(ctx context.Context, k *gcKind, o metav1.Object, fin string) error {
	cur, ok := m.liveMeta(ctx, k, o)
	if !ok || !slices.Contains(cur.GetFinalizers(), fin) {
		return nil
	}
	rest := slices.DeleteFunc(slices.Clone(cur.GetFinalizers()), func(f string) bool { return f == fin })
	if err := m.patchMeta(ctx, k, o, cur.GetResourceVersion(), "finalizers", rest); err != nil {
		return err
	}
	m.log.Debug("removed finalizer", "finalizer", fin, "resource", k.resource, "object", kube.Key(o.GetNamespace(), o.GetName()))
	return nil
}
