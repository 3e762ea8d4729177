package controllers

import (
	"context"
	"errors"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"

	"github.com/weirnet/weir/control/controllers/kube"
)

// watchDaemonSets feeds the DaemonSet controller: a DaemonSet's own
// changes and its ControllerRevisions'; a node added or deleted, or one whose labels, taints or
// unschedulable flag changed, enqueues every DaemonSet (its pods come
// through podOwnerEvent).
func (m *Manager) watchDaemonSets(h *handlers) {
	h.onAny(m.in.daemonsets, func(obj any) { m.loops.daemonset.add(keyOf(obj)) })
	h.on(m.in.daemonsets, nil, nil, func(obj any) { m.dsExp.forget(keyOf(obj)) })
	h.onAny(m.in.revisions, func(obj any) {
		if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = t.Obj
		}
		if r, ok := obj.(*appsv1.ControllerRevision); ok {
			if ref := controllerOf(r); ref != nil && ref.Kind == "DaemonSet" {
				m.loops.daemonset.add(kube.Key(r.Namespace, ref.Name))
			}
		}
	})
	all := func() {
		for _, obj := range m.in.daemonsets.GetStore().List() {
			m.loops.daemonset.add(keyOf(obj))
		}
	}
	h.on(m.in.nodes, func(any) { all() }, func(old, cur any) {
		o, n := old.(*corev1.Node), cur.(*corev1.Node)
		if !equality.Semantic.DeepEqual(o.Labels, n.Labels) || !equality.Semantic.DeepEqual(o.Spec.Taints, n.Spec.Taints) ||
			o.Spec.Unschedulable != n.Spec.Unschedulable {
			all()
		}
	}, func(any) { all() })
}

// syncDaemonSet reconciles one DaemonSet (key namespace/name).
func (m *Manager) syncDaemonSet(ctx context.Context, key string, now time.Time) (time.Duration, error) {
	ns, name, _ := cache.SplitMetaNamespaceKey(key)
	ds, err := m.in.dsLister.DaemonSets(ns).Get(name)
	if err != nil || !m.dsExp.satisfied(key, now) {
		return 0, nil
	}
	nodes, err := m.in.nodeLister.List(labels.Everything())
	if err != nil {
		return 0, err
	}
	hash := TemplateHash(&ds.Spec.Template)
	owned := m.ownedPods(ds.UID)
	if ds.DeletionTimestamp == nil {
		if err := m.syncDaemonSetHistory(ctx, ds, owned, hash); err != nil {
			return 0, err
		}
	}
	plan := PlanDaemonSet(ds, nodes, owned, hash, now)
	if ds.DeletionTimestamp != nil {
		plan.Create, plan.Delete = nil, nil // being deleted: the garbage collector's
	}
	if len(plan.Create) > 0 || len(plan.Delete) > 0 {
		m.dsExp.expect(key, len(plan.Create), podUIDs(plan.Delete), now)
	}
	var errs []error
	ref := ownerRef("apps/v1", "DaemonSet", ds)
	for i, node := range plan.Create {
		p := podFromTemplate(&ds.Spec.Template, ds.Namespace, ds.Name, ref)
		p.Spec = *DaemonPodSpec(&ds.Spec.Template.Spec, node)
		if p.Labels == nil {
			p.Labels = map[string]string{}
		}
		p.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] = hash
		out, err := m.c.CoreV1().Pods(ds.Namespace).Create(ctx, p, metav1.CreateOptions{})
		if err != nil {
			for range len(plan.Create) - i {
				m.dsExp.created(key)
			}
			m.warn("create daemon pod", ds, err)
			m.event(ctx, "apps/v1", "DaemonSet", ds, corev1.EventTypeWarning, "FailedCreate", err.Error())
			errs = append(errs, err)
			break
		}
		m.event(ctx, "apps/v1", "DaemonSet", ds, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: "+out.Name)
	}
	for _, p := range plan.Delete {
		ok, err := m.deletePod(ctx, p)
		if !ok {
			m.dsExp.deleted(key, p.UID)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			m.event(ctx, "apps/v1", "DaemonSet", ds, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: "+p.Name)
		}
	}
	var after time.Duration
	if ds.Spec.MinReadySeconds > 0 && plan.Status.NumberReady > plan.Status.NumberAvailable {
		after = m.cfg.Resync // pods become available as time passes
	}
	if equality.Semantic.DeepEqual(plan.Status, ds.Status) {
		return after, errors.Join(errs...)
	}
	up := ds.DeepCopy()
	up.Status = plan.Status
	if _, err := m.c.AppsV1().DaemonSets(ds.Namespace).UpdateStatus(ctx, up, metav1.UpdateOptions{}); err != nil {
		m.warnUnlessRace("update daemonset status", ds, err)
		errs = append(errs, err)
	}
	return after, errors.Join(errs...)
}

// syncDaemonSetHistory writes ds's ControllerRevisions
// (PlanDaemonSetHistory).
func (m *Manager) syncDaemonSetHistory(ctx context.Context, ds *appsv1.DaemonSet, pods []*corev1.Pod, hash string) error {
	var revs []*appsv1.ControllerRevision
	for _, r := range kube.ByIndex[*appsv1.ControllerRevision](m.in.revisions, kube.ByOwnerUID, string(ds.UID)) {
		if ownedBy(r, ds.UID) {
			revs = append(revs, r)
		}
	}
	h, err := PlanDaemonSetHistory(ds, revs, pods, hash)
	if err != nil {
		return err
	}
	return m.writeHistory(ctx, ds, h)
}
