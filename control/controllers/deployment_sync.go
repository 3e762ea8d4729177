package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/weirnet/weir/control/controllers/kube"
)

// watchDeployments feeds the Deployment controller: a Deployment's own
// changes, and a ReplicaSet change enqueues its controlling Deployment.
func (m *Manager) watchDeployments(h *handlers) {
	h.onAny(m.in.deployments, func(obj any) { m.loops.deployment.add(keyOf(obj)) })
	h.onAny(m.in.replicasets, func(obj any) {
		if o, ok := kube.ObjectOf(obj); ok {
			if r := controllerOf(o); r != nil && r.Kind == "Deployment" {
				m.loops.deployment.add(kube.Key(o.GetNamespace(), r.Name))
			}
		}
	})
}

// ownedReplicaSets are the cached ReplicaSets controlled by uid.
func (m *Manager) ownedReplicaSets(uid metav1.Object) []*appsv1.ReplicaSet {
	var out []*appsv1.ReplicaSet
	for _, rs := range kube.ByIndex[*appsv1.ReplicaSet](m.in.replicasets, kube.ByOwnerUID, string(uid.GetUID())) {
		if ownedBy(rs, uid.GetUID()) {
			out = append(out, rs)
		}
	}
	return out
}

// syncDeployment reconciles one Deployment (key namespace/name). The
// ReplicaSets it creates have deterministic names and its updates are
// conditional on the resourceVersion read, so a stale cache costs an
// AlreadyExists or a Conflict and a retry, never a duplicate.
func (m *Manager) syncDeployment(ctx context.Context, key string, now time.Time) (time.Duration, error) {
	ns, name, _ := cache.SplitMetaNamespaceKey(key)
	d, err := m.in.deployLister.Deployments(ns).Get(name)
	if err != nil {
		return 0, nil
	}
	owned := m.ownedReplicaSets(d)
	plan := PlanDeployment(d, owned, now)
	if d.DeletionTimestamp != nil {
		// being deleted: no ReplicaSet created, scaled or deleted, only status
		plan.Create, plan.Update, plan.Delete = nil, nil, nil
	}
	var errs []error
	if plan.Create != nil {
		out, err := m.c.AppsV1().ReplicaSets(d.Namespace).Create(ctx, plan.Create, metav1.CreateOptions{})
		if err != nil {
			m.warnUnlessRace("create replicaset", d, err)
			return 0, err
		}
		m.event(ctx, "apps/v1", "Deployment", d, corev1.EventTypeNormal, "ScalingReplicaSet",
			fmt.Sprintf("Scaled up replica set %s to %d", out.Name, derefInt32(out.Spec.Replicas, 0)))
	}
	for _, rs := range plan.Update {
		if err := m.updateReplicaSet(ctx, d, rs, owned); err != nil {
			errs = append(errs, err)
		}
	}
	for _, rs := range plan.Delete {
		uid := rs.UID
		if err := m.c.AppsV1().ReplicaSets(rs.Namespace).Delete(ctx, rs.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}}); err != nil {
			m.warnUnlessRace("delete old replicaset", rs, err)
			errs = append(errs, err)
		}
	}
	if !equality.Semantic.DeepEqual(plan.Status, d.Status) {
		up := d.DeepCopy()
		up.Status = plan.Status
		if _, err := m.c.AppsV1().Deployments(d.Namespace).UpdateStatus(ctx, up, metav1.UpdateOptions{}); err != nil {
			m.warnUnlessRace("update deployment status", d, err)
			errs = append(errs, err)
		}
	}
	var after time.Duration
	if st := plan.Status; !d.Spec.Paused && (st.UpdatedReplicas != st.Replicas || st.AvailableReplicas != st.Replicas ||
		st.Replicas != derefInt32(d.Spec.Replicas, 1)) {
		after = m.cfg.Resync // progress deadlines and minReadySeconds pass without an event
	}
	return after, errors.Join(errs...)
}

func (m *Manager) updateReplicaSet(ctx context.Context, d *appsv1.Deployment, rs *appsv1.ReplicaSet, owned []*appsv1.ReplicaSet) error {
	var before int32
	for _, o := range owned {
		if o.UID == rs.UID {
			before = derefInt32(o.Spec.Replicas, 0)
		}
	}
	out, err := m.c.AppsV1().ReplicaSets(rs.Namespace).Update(ctx, rs, metav1.UpdateOptions{})
	if err != nil {
		m.warnUnlessRace("scale replicaset", rs, err)
		return err
	}
	after := derefInt32(out.Spec.Replicas, 0)
	if after == before {
		return nil
	}
	dir := "up"
	if after < before {
		dir = "down"
	}
	m.event(ctx, "apps/v1", "Deployment", d, corev1.EventTypeNormal, "ScalingReplicaSet",
		fmt.Sprintf("Scaled %s replica set %s from %d to %d", dir, rs.Name, before, after))
	return nil
}
