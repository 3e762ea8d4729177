package controllers

import (
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// rolling moves replicas from the old ReplicaSets to the new one within
// maxSurge (pods above desired) and maxUnavailable (available pods below
// desired), driven by the ReplicaSets' available counts.
func (s *rolloutState) rolling() {
	if s.oldReplicas() == 0 {
		s.scale(s.newRS, s.desired)
		return
	}
	surge, unavail := surgeAndUnavailable(s.d, s.desired)
	newSpec := derefInt32(s.newRS.Spec.Replicas, 0)
	if total := newSpec + s.oldReplicas(); total < s.desired+surge && newSpec < s.desired {
		s.scale(s.newRS, min(s.desired, newSpec+s.desired+surge-total))
	}
	minAvailable := s.desired - unavail
	newSpec = derefInt32(s.newRS.Spec.Replicas, 0)
	newUnavailable := max(0, newSpec-s.newRS.Status.AvailableReplicas)
	budget := newSpec + s.oldReplicas() - minAvailable - newUnavailable
	if budget <= 0 {
		return
	}
	// Old pods that are not available cost no availability: remove them first.
	var cleaned int32
	for _, rs := range s.olds {
		spec := derefInt32(rs.Spec.Replicas, 0)
		unhealthy := max(0, spec-rs.Status.AvailableReplicas)
		if n := min(unhealthy, budget-cleaned); n > 0 {
			s.scale(rs, spec-n)
			cleaned += n
		}
	}
	available := s.newRS.Status.AvailableReplicas
	for _, rs := range s.olds {
		available += rs.Status.AvailableReplicas
	}
	canRemove := available - minAvailable
	var removed int32
	for _, rs := range s.olds {
		spec := derefInt32(rs.Spec.Replicas, 0)
		if n := min(spec, canRemove-removed); n > 0 {
			s.scale(rs, spec-n)
			removed += n
		}
	}
}

// history returns the old, empty ReplicaSets beyond revisionHistoryLimit,
// oldest first.
func (s *rolloutState) history() []*appsv1.ReplicaSet {
	limit := int(derefInt32(s.d.Spec.RevisionHistoryLimit, 10))
	var empty []*appsv1.ReplicaSet
	for _, rs := range s.olds {
		if derefInt32(rs.Spec.Replicas, 0) == 0 && rs.Status.Replicas == 0 && !s.changed[rs] {
			empty = append(empty, rs)
		}
	}
	if len(empty) <= limit {
		return nil
	}
	return empty[:len(empty)-limit]
}

// deploymentStatus sums the ReplicaSets' statuses.
func deploymentStatus(d *appsv1.Deployment, newRS *appsv1.ReplicaSet, owned []*appsv1.ReplicaSet, now time.Time) appsv1.DeploymentStatus {
	desired := derefInt32(d.Spec.Replicas, 1)
	st := appsv1.DeploymentStatus{ObservedGeneration: d.Generation, CollisionCount: d.Status.CollisionCount}
	for _, rs := range owned {
		st.Replicas += rs.Status.Replicas
		st.ReadyReplicas += rs.Status.ReadyReplicas
		st.AvailableReplicas += rs.Status.AvailableReplicas
	}
	if newRS != nil {
		st.UpdatedReplicas = newRS.Status.Replicas
	}
	st.UnavailableReplicas = max(0, desired-st.AvailableReplicas)
	_, unavail := surgeAndUnavailable(d, desired)
	if d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
		unavail = 0
	}
	avail := condition(appsv1.DeploymentAvailable, st.AvailableReplicas >= desired-unavail,
		"MinimumReplicasAvailable", "Deployment has minimum availability.",
		"MinimumReplicasUnavailable", "Deployment does not have minimum availability.")
	complete := newRS != nil && st.UpdatedReplicas == desired && st.Replicas == desired && newRS.Status.AvailableReplicas == desired
	progressing, progressed := progressCondition(d, newRS, st, complete, now)
	st.Conditions = mergeConditions(d.Status.Conditions, []appsv1.DeploymentCondition{avail, progressing}, now)
	if progressed {
		touchCondition(st.Conditions, appsv1.DeploymentProgressing, now)
	}
	return st
}

func condition(t appsv1.DeploymentConditionType, ok bool, okReason, okMsg, badReason, badMsg string) appsv1.DeploymentCondition {
	if ok {
		return appsv1.DeploymentCondition{Type: t, Status: corev1.ConditionTrue, Reason: okReason, Message: okMsg}
	}
	return appsv1.DeploymentCondition{Type: t, Status: corev1.ConditionFalse, Reason: badReason, Message: badMsg}
}

// mergeConditions keeps the timestamps of conditions that did not change.
func mergeConditions(old, cur []appsv1.DeploymentCondition, now time.Time) []appsv1.DeploymentCondition {
	ts := metav1.NewTime(now.Truncate(time.Second))
	for i := range cur {
		c := &cur[i]
		c.LastUpdateTime, c.LastTransitionTime = ts, ts
		for _, o := range old {
			if o.Type != c.Type {
				continue
			}
			if o.Status == c.Status {
				c.LastTransitionTime = o.LastTransitionTime
			}
			if o.Status == c.Status && o.Reason == c.Reason && o.Message == c.Message {
				c.LastUpdateTime = o.LastUpdateTime
			}
		}
	}
	sort.Slice(cur, func(i, j int) bool { return cur[i].Type < cur[j].Type })
	return cur
}
