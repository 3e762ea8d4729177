package controllers

import (
	"context"
	"errors"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// History is what a workload's ControllerRevisions need (DaemonSets and
// StatefulSets keep them alike): the current template's revision
// created, or renumbered as the newest when an older template came back
// (a rollback), and the old revisions beyond revisionHistoryLimit deleted.
type History struct {
	Create   *appsv1.ControllerRevision
	Renumber *appsv1.ControllerRevision
	Delete   []*appsv1.ControllerRevision
}

// revisionOf describes a workload's current revision for planHistory.
type revisionOf struct {
	name      string // the current template's revision name
	kind      string // the owner's kind (apps/v1)
	owner     metav1.Object
	labels    map[string]string // the template's labels (copied here)
	hashKey   string            // the label that carries the revision's hash
	hash      string
	data      func() (runtime.RawExtension, error) // the template patch, made only when needed
	kept      func(r *appsv1.ControllerRevision) bool
	limit     int32 // revisionHistoryLimit
	namespace string
}

// planHistory compares revs (the owner's revisions) with its current one.
func planHistory(revs []*appsv1.ControllerRevision, c revisionOf) (History, error) {
	var h History
	var cur *appsv1.ControllerRevision
	var newest int64
	for _, r := range revs {
		newest = max(newest, r.Revision)
		if r.Name == c.name {
			cur = r
		}
	}
	switch {
	case cur == nil:
		data, err := c.data()
		if err != nil {
			return h, err
		}
		lbls := copyMap(c.labels)
		if lbls == nil {
			lbls = map[string]string{}
		}
		lbls[c.hashKey] = c.hash
		h.Create = &appsv1.ControllerRevision{
			TypeMeta: metav1.TypeMeta{Kind: "ControllerRevision", APIVersion: "apps/v1"},
			ObjectMeta: metav1.ObjectMeta{Name: c.name, Namespace: c.namespace, Labels: lbls,
				OwnerReferences: []metav1.OwnerReference{ownerRef("apps/v1", c.kind, c.owner)}},
			Data: data, Revision: newest + 1,
		}
	case cur.Revision < newest:
		h.Renumber = cur.DeepCopy()
		h.Renumber.Revision = newest + 1
	}
	var old []*appsv1.ControllerRevision
	for _, r := range revs {
		if r != cur && !c.kept(r) {
			old = append(old, r)
		}
	}
	if limit := int(c.limit); len(old) > limit {
		sort.Slice(old, func(a, b int) bool { return old[a].Revision < old[b].Revision })
		h.Delete = old[:len(old)-limit]
	}
	return h, nil
}

// writeHistory carries out h for owner's revisions.
func (m *Manager) writeHistory(ctx context.Context, owner metav1.Object, h History) error {
	crs := m.c.AppsV1().ControllerRevisions(owner.GetNamespace())
	if h.Create != nil {
		// AlreadyExists: made in an earlier round the cache has not shown yet
		if _, err := crs.Create(ctx, h.Create, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			m.warn("create controllerrevision", owner, err)
			return err
		}
	}
	if h.Renumber != nil {
		if _, err := crs.Update(ctx, h.Renumber, metav1.UpdateOptions{}); err != nil {
			m.warnUnlessRace("renumber controllerrevision", owner, err)
			return err
		}
	}
	var errs []error
	for _, r := range h.Delete {
		err := crs.Delete(ctx, r.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &r.UID}})
		if err != nil && !apierrors.IsNotFound(err) {
			m.warnUnlessRace("delete controllerrevision", owner, err)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
