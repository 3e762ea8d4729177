package controllers

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"

	"github.com/weirnet/weir/control/controllers/kube"
)

func (m *Manager) syncDeployments(ctx context.Context, now time.Time) {
	owned := map[types.UID][]*appsv1.ReplicaSet{}
	for _, rs := range m.inf.replicasets.List() {
		if r := controllerOf(rs); r != nil && r.Kind == "Deployment" {
			owned[r.UID] = append(owned[r.UID], rs)
		}
	}
	for _, d := range m.inf.deployments.List() {
		if ctx.Err() != nil {
			return
		}
		m.syncDeployment(ctx, d, owned[d.UID], now)
	}
}

func (m *Manager) syncDeployment(ctx context.Context, d *appsv1.Deployment, owned []*appsv1.ReplicaSet, now time.Time) {
	plan := PlanDeployment(d, owned, now)
	if d.DeletionTimestamp != nil {
		// being deleted: no ReplicaSet created, scaled or deleted, only status
		plan.Create, plan.Update, plan.Delete = nil, nil, nil
	}
	if plan.Create != nil {
		out := &appsv1.ReplicaSet{}
		if err := m.c.Create(ctx, kube.ReplicaSets, d.Namespace, plan.Create, out); err != nil {
			m.warnUnlessRace("create replicaset", d, err)
			return
		}
		m.inf.replicasets.Observe(out)
		m.event(ctx, "apps/v1", "Deployment", d, corev1.EventTypeNormal, "ScalingReplicaSet",
			fmt.Sprintf("Scaled up replica set %s to %d", out.Name, derefInt32(out.Spec.Replicas, 0)))
	}
	for _, rs := range plan.Update {
		m.updateReplicaSet(ctx, d, rs, owned)
	}
	for _, rs := range plan.Delete {
		if err := m.c.Delete(ctx, kube.ReplicaSets, rs.Namespace, rs.Name, rs.UID, nil); err != nil {
			m.warnUnlessRace("delete old replicaset", rs, err)
			continue
		}
		m.inf.replicasets.ObserveDeleted(rs)
	}
	if !equality.Semantic.DeepEqual(plan.Status, d.Status) {
		up := d.DeepCopy()
		up.Status = plan.Status
		out := &appsv1.Deployment{}
		if err := m.c.UpdateStatus(ctx, kube.Deployments, d.Namespace, d.Name, up, out); err != nil {
			m.warnUnlessRace("update deployment status", d, err)
			return
		}
		m.inf.deployments.Observe(out)
	}
}

func (m *Manager) updateReplicaSet(ctx context.Context, d *appsv1.Deployment, rs *appsv1.ReplicaSet, owned []*appsv1.ReplicaSet) {
	var before int32
	for _, o := range owned {
		if o.UID == rs.UID {
			before = derefInt32(o.Spec.Replicas, 0)
		}
	}
	out := &appsv1.ReplicaSet{}
	if err := m.c.Update(ctx, kube.ReplicaSets, rs.Namespace, rs.Name, rs, out); err != nil {
		m.warnUnlessRace("scale replicaset", rs, err)
		return
	}
	m.inf.replicasets.Observe(out)
	after := derefInt32(out.Spec.Replicas, 0)
	if after == before {
		return
	}
	dir := "up"
	if after < before {
		dir = "down"
	}
	m.event(ctx, "apps/v1", "Deployment", d, corev1.EventTypeNormal, "ScalingReplicaSet",
		fmt.Sprintf("Scaled %s replica set %s from %d to %d", dir, rs.Name, before, after))
}
