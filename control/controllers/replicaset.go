package controllers

import (
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// maxBurst bounds the pods one reconciliation creates or deletes per
// owner; the next round continues.
const maxBurst = 100

// ReplicaSetPlan is what a ReplicaSet needs: pods to create, pods to
// delete, and its new status.
type ReplicaSetPlan struct {
	Create int
	Delete []*corev1.Pod
	Status appsv1.ReplicaSetStatus
}

// PlanReplicaSet compares rs with the pods it controls (any phase) at now.
func PlanReplicaSet(rs *appsv1.ReplicaSet, owned []*corev1.Pod, now time.Time) ReplicaSetPlan {
	var active []*corev1.Pod
	for _, p := range owned {
		if PodActive(p) {
			active = append(active, p)
		}
	}
	want := int(derefInt32(rs.Spec.Replicas, 1))
	var plan ReplicaSetPlan
	switch diff := len(active) - want; {
	case diff < 0:
		plan.Create = min(-diff, maxBurst)
	case diff > 0:
		sort.SliceStable(active, func(i, j int) bool { return deleteFirst(active[i], active[j]) })
		plan.Delete = active[:min(diff, maxBurst)]
	}
	plan.Status = replicaSetStatus(rs, active, now)
	return plan
}

// deleteFirst orders pods for scale-down as the ReplicaSet controller
// does: unscheduled, then pending, then not ready, then the newest.
func deleteFirst(a, b *corev1.Pod) bool {
	if (a.Spec.NodeName == "") != (b.Spec.NodeName == "") {
		return a.Spec.NodeName == ""
	}
	if ra, rb := a.Status.Phase == corev1.PodRunning, b.Status.Phase == corev1.PodRunning; ra != rb {
		return !ra
	}
	if ra, rb := PodReady(a), PodReady(b); ra != rb {
		return !ra
	}
	return b.CreationTimestamp.Before(&a.CreationTimestamp)
}

func replicaSetStatus(rs *appsv1.ReplicaSet, active []*corev1.Pod, now time.Time) appsv1.ReplicaSetStatus {
	minReady := time.Duration(rs.Spec.MinReadySeconds) * time.Second
	st := appsv1.ReplicaSetStatus{Replicas: int32(len(active)), ObservedGeneration: rs.Generation,
		Conditions: rs.Status.Conditions}
	for _, p := range active {
		if matchesLabels(rs.Spec.Template.Labels, p.Labels) {
			st.FullyLabeledReplicas++
		}
		if PodReady(p) {
			st.ReadyReplicas++
		}
		if PodAvailable(p, minReady, now) {
			st.AvailableReplicas++
		}
	}
	return st
}

func matchesLabels(want, have map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

func derefInt32(p *int32, def int32) int32 {
	if p == nil {
		return def
	}
	return *p
}
