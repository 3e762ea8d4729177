package controllers

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Reasons of a Deployment's Progressing condition.
const (
	ReasonReplicaSetUpdated        = "ReplicaSetUpdated"
	ReasonNewReplicaSetAvailable   = "NewReplicaSetAvailable"
	ReasonProgressDeadlineExceeded = "ProgressDeadlineExceeded"
)

// progressCondition is a Deployment's Progressing condition, and whether
// the rollout made progress in this sync (a spec change or a changed
// replica count), which restarts the progress deadline clock. A rollout
// that makes no progress for spec.progressDeadlineSeconds turns
// Progressing False with ProgressDeadlineExceeded until it progresses
// again; a paused Deployment never times out.
func progressCondition(d *appsv1.Deployment, newRS *appsv1.ReplicaSet, st appsv1.DeploymentStatus, complete bool, now time.Time) (appsv1.DeploymentCondition, bool) {
	c := appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: ReasonReplicaSetUpdated}
	if newRS == nil {
		return c, false
	}
	if complete {
		c.Reason, c.Message = ReasonNewReplicaSetAvailable, "ReplicaSet \""+newRS.Name+"\" has successfully progressed."
		return c, false
	}
	c.Message = "ReplicaSet \"" + newRS.Name + "\" is progressing."
	old := d.Status
	progressed := d.Generation != old.ObservedGeneration || st.Replicas != old.Replicas || st.UpdatedReplicas != old.UpdatedReplicas ||
		st.ReadyReplicas != old.ReadyReplicas || st.AvailableReplicas != old.AvailableReplicas
	if progressed || d.Spec.Paused || d.Spec.ProgressDeadlineSeconds == nil {
		return c, progressed
	}
	prev := findCondition(old.Conditions, appsv1.DeploymentProgressing)
	if prev == nil {
		return c, false
	}
	deadline := time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second
	if prev.Reason == ReasonProgressDeadlineExceeded || now.Sub(prev.LastUpdateTime.Time) > deadline {
		c.Status, c.Reason = corev1.ConditionFalse, ReasonProgressDeadlineExceeded
		c.Message = "ReplicaSet \"" + newRS.Name + "\" has timed out progressing."
	}
	return c, false
}

func findCondition(conds []appsv1.DeploymentCondition, t appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	for i := range conds {
		if conds[i].Type == t {
			return &conds[i]
		}
	}
	return nil
}

// touchCondition sets the LastUpdateTime of condition t to now.
func touchCondition(conds []appsv1.DeploymentCondition, t appsv1.DeploymentConditionType, now time.Time) {
	if c := findCondition(conds, t); c != nil {
		c.LastUpdateTime = metav1.NewTime(now.Truncate(time.Second))
	}
}
