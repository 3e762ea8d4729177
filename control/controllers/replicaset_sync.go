package controllers

import (
	"context"
	"fmt"
	"reflect"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	"github.com/weirnet/weir/control/controllers/kube"
)

// podsByController groups the cached pods by their controller's UID.
func (m *Manager) podsByController() map[types.UID][]*corev1.Pod {
	out := map[types.UID][]*corev1.Pod{}
	for _, p := range m.inf.pods.List() {
		if r := controllerOf(p); r != nil {
			out[r.UID] = append(out[r.UID], p)
		}
	}
	return out
}

func (m *Manager) syncReplicaSets(ctx context.Context, now time.Time) {
	owned := m.podsByController()
	for _, rs := range m.inf.replicasets.List() {
		if ctx.Err() != nil {
			return
		}
		m.syncReplicaSet(ctx, rs, owned[rs.UID], now)
	}
}

func (m *Manager) syncReplicaSet(ctx context.Context, rs *appsv1.ReplicaSet, owned []*corev1.Pod, now time.Time) {
	plan := PlanReplicaSet(rs, owned, now)
	if rs.DeletionTimestamp != nil {
		// being deleted (the garbage collector's foreground or orphan
		// deletion): neither create nor delete pods, only report status
		plan.Create, plan.Delete = 0, nil
	}
	ref := ownerRef("apps/v1", "ReplicaSet", rs)
	for range plan.Create {
		p := podFromTemplate(&rs.Spec.Template, rs.Namespace, rs.Name, ref)
		out := &corev1.Pod{}
		if err := m.c.Create(ctx, kube.Pods, rs.Namespace, p, out); err != nil {
			m.warn("create pod", rs, err)
			m.event(ctx, "apps/v1", "ReplicaSet", rs, corev1.EventTypeWarning, "FailedCreate", err.Error())
			break
		}
		m.inf.pods.Observe(out)
		m.event(ctx, "apps/v1", "ReplicaSet", rs, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: "+out.Name)
	}
	for _, p := range plan.Delete {
		if m.deletePod(ctx, p) {
			m.event(ctx, "apps/v1", "ReplicaSet", rs, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: "+p.Name)
		}
	}
	if plan.Create == 0 && len(plan.Delete) == 0 && !reflect.DeepEqual(plan.Status, rs.Status) {
		up := rs.DeepCopy()
		up.Status = plan.Status
		out := &appsv1.ReplicaSet{}
		if err := m.c.UpdateStatus(ctx, kube.ReplicaSets, rs.Namespace, rs.Name, up, out); err != nil {
			m.warnUnlessRace("update replicaset status", rs, err)
			return
		}
		m.inf.replicasets.Observe(out)
	}
}

// deletePod deletes p (if it is still that pod) and records the delete.
func (m *Manager) deletePod(ctx context.Context, p *corev1.Pod) bool {
	out := &corev1.Pod{}
	err := m.c.Delete(ctx, kube.Pods, p.Namespace, p.Name, p.UID, out)
	if err != nil && !apierrors.IsNotFound(err) {
		m.warnUnlessRace("delete pod", p, err)
		return false
	}
	m.observePodDelete(p, out, err)
	return err == nil
}

func (m *Manager) warn(what string, obj kube.Object, err error) {
	m.log.Warn(what, "object", kube.Key(obj.GetNamespace(), obj.GetName()), "error", err)
}

// warnUnlessRace logs err unless it is a conflict or a missing object,
// which the next round settles.
func (m *Manager) warnUnlessRace(what string, obj kube.Object, err error) {
	if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
		m.log.Debug(what, "object", kube.Key(obj.GetNamespace(), obj.GetName()), "error", err)
		return
	}
	m.warn(what, obj, fmt.Errorf("%w", err))
}
