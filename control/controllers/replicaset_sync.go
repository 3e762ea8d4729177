package controllers

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	"github.com/weirnet/weir/control/controllers/kube"
)

// watchReplicaSets feeds the ReplicaSet and Job controllers: a change to
// an owner enqueues it; a pod change enqueues its controlling ReplicaSet
// or Job and fulfils that owner's expectations.
func (m *Manager) watchReplicaSets(h *handlers) {
	h.onAny(m.in.replicasets, func(obj any) { m.loops.replicaset.add(keyOf(obj)) })
	h.on(m.in.replicasets, nil, nil, func(obj any) { m.rsExp.forget(keyOf(obj)) })
	h.on(m.in.pods,
		func(obj any) { m.podOwnerEvent(obj, true, false) },
		func(old, cur any) {
			o, n := old.(*corev1.Pod), cur.(*corev1.Pod)
			if r1, r2 := controllerOf(o), controllerOf(n); r1 != nil && (r2 == nil || r1.UID != r2.UID) {
				m.podOwnerEvent(o, false, true)
			}
			m.podOwnerEvent(n, false, n.DeletionTimestamp != nil && o.DeletionTimestamp == nil)
		},
		func(obj any) { m.podOwnerEvent(obj, false, true) })
}

// podOwnerEvent enqueues the ReplicaSet, Job or DaemonSet controlling pod obj, and
// records its creation or deletion as seen.
func (m *Manager) podOwnerEvent(obj any, created, deleted bool) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	r := controllerOf(p)
	if r == nil {
		return
	}
	var l *loop
	var exp *expectations
	switch r.Kind {
	case "ReplicaSet":
		l, exp = m.loops.replicaset, m.rsExp
	case "Job":
		l, exp = m.loops.job, m.jobExp
	case "DaemonSet":
		l, exp = m.loops.daemonset, m.dsExp
	default:
		return
	}
	key := kube.Key(p.Namespace, r.Name)
	if created {
		exp.created(key)
	}
	if deleted {
		exp.deleted(key, p.UID)
	}
	l.add(key)
}

// ownedPods are the cached pods controlled by the owner with uid.
func (m *Manager) ownedPods(uid types.UID) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range kube.ByIndex[*corev1.Pod](m.in.pods, kube.ByOwnerUID, string(uid)) {
		if ownedBy(p, uid) {
			out = append(out, p)
		}
	}
	return out
}

// syncReplicaSet reconciles one ReplicaSet (key namespace/name).
func (m *Manager) syncReplicaSet(ctx context.Context, key string, now time.Time) (time.Duration, error) {
	ns, name, _ := cache.SplitMetaNamespaceKey(key)
	rs, err := m.in.rsLister.ReplicaSets(ns).Get(name)
	if err != nil {
		return 0, nil // gone: its pods are the garbage collector's
	}
	if !m.rsExp.satisfied(key, now) {
		return 0, nil // the pods it made or deleted are not all seen yet; their events bring it back
	}
	plan := PlanReplicaSet(rs, m.ownedPods(rs.UID), now)
	if rs.DeletionTimestamp != nil {
		// being deleted (the garbage collector's foreground or orphan
		// deletion): neither create nor delete pods, only report status
		plan.Create, plan.Delete = 0, nil
	}
	var errs []error
	if plan.Create > 0 || len(plan.Delete) > 0 {
		m.rsExp.expect(key, plan.Create, podUIDs(plan.Delete), now)
	}
	ref := ownerRef("apps/v1", "ReplicaSet", rs)
	for i := range plan.Create {
		p := podFromTemplate(&rs.Spec.Template, rs.Namespace, rs.Name, ref)
		out, err := m.c.CoreV1().Pods(rs.Namespace).Create(ctx, p, metav1.CreateOptions{})
		if err != nil {
			for range plan.Create - i {
				m.rsExp.created(key)
			}
			m.warn("create pod", rs, err)
			m.event(ctx, "apps/v1", "ReplicaSet", rs, corev1.EventTypeWarning, "FailedCreate", err.Error())
			errs = append(errs, err)
			break
		}
		m.event(ctx, "apps/v1", "ReplicaSet", rs, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: "+out.Name)
	}
	for _, p := range plan.Delete {
		ok, err := m.deletePod(ctx, p)
		if !ok {
			m.rsExp.deleted(key, p.UID)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			m.event(ctx, "apps/v1", "ReplicaSet", rs, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: "+p.Name)
		}
	}
	if plan.Create == 0 && len(plan.Delete) == 0 && !reflect.DeepEqual(plan.Status, rs.Status) {
		up := rs.DeepCopy()
		up.Status = plan.Status
		if _, err := m.c.AppsV1().ReplicaSets(rs.Namespace).UpdateStatus(ctx, up, metav1.UpdateOptions{}); err != nil {
			m.warnUnlessRace("update replicaset status", rs, err)
			errs = append(errs, err)
		}
	}
	var after time.Duration
	if rs.Spec.MinReadySeconds > 0 && plan.Status.ReadyReplicas > plan.Status.AvailableReplicas {
		after = m.cfg.Resync // pods become available as time passes
	}
	return after, errors.Join(errs...)
}

func podUIDs(pods []*corev1.Pod) []types.UID {
	out := make([]types.UID, len(pods))
	for i, p := range pods {
		out[i] = p.UID
	}
	return out
}

// deletePod deletes p (if it is still that pod): ok when the API accepted
// the delete; err when it failed for a reason other than the pod being
// gone already.
func (m *Manager) deletePod(ctx context.Context, p *corev1.Pod) (ok bool, err error) {
	err = m.c.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &p.UID}})
	switch {
	case err == nil:
		return true, nil
	case apierrors.IsNotFound(err):
		return false, nil
	}
	m.warnUnlessRace("delete pod", p, err)
	return false, err
}

func (m *Manager) warn(what string, obj metav1.Object, err error) {
	m.log.Warn(what, "object", kube.Key(obj.GetNamespace(), obj.GetName()), "error", err)
}

// warnUnlessRace logs err unless it is a conflict, a missing object or
// one that exists already, which a later round settles.
func (m *Manager) warnUnlessRace(what string, obj metav1.Object, err error) {
	if apierrors.IsConflict(err) || apierrors.IsNotFound(err) || apierrors.IsAlreadyExists(err) {
		m.log.Debug(what, "object", kube.Key(obj.GetNamespace(), obj.GetName()), "error", err)
		return
	}
	m.warn(what, obj, fmt.Errorf("%w", err))
}
