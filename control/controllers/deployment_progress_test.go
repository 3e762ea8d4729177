package controllers

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// TestPlanDeploymentProgressDeadline: a rollout without progress for
// progressDeadlineSeconds turns Progressing False/ProgressDeadlineExceeded
// and stays so; progress (a changed count) makes it progress again with a
// fresh clock; a paused one never times out.
func TestPlanDeploymentProgressDeadline(t *testing.T) {
	d := deployment(2, appsv1.RollingUpdateDeploymentStrategyType, 1, 0)
	ten := int32(10)
	d.Spec.ProgressDeadlineSeconds = &ten
	owned := []*appsv1.ReplicaSet{rs(d, true, 1, 2, 2, 0)}
	progressing := func(now time.Time) appsv1.DeploymentCondition {
		t.Helper()
		st := PlanDeployment(d, owned, now).Status
		c := findCondition(st.Conditions, appsv1.DeploymentProgressing)
		if c == nil {
			t.Fatalf("no Progressing condition in %+v", st)
		}
		d.Status = st
		return *c
	}
	if c := progressing(t0); c.Reason != ReasonReplicaSetUpdated || !c.LastUpdateTime.Time.Equal(t0) {
		t.Fatalf("first sync: %+v", c)
	}
	if c := progressing(t0.Add(9 * time.Second)); c.Status != corev1.ConditionTrue || !c.LastUpdateTime.Time.Equal(t0) {
		t.Fatalf("within the deadline: %+v", c)
	}
	c := progressing(t0.Add(11 * time.Second))
	if c.Status != corev1.ConditionFalse || c.Reason != ReasonProgressDeadlineExceeded {
		t.Fatalf("after the deadline: %+v", c)
	}
	if c := progressing(t0.Add(30 * time.Second)); c.Reason != ReasonProgressDeadlineExceeded {
		t.Fatalf("the exceeded condition must stay until progress: %+v", c)
	}
	owned[0].Status.AvailableReplicas = 1
	if c := progressing(t0.Add(31 * time.Second)); c.Status != corev1.ConditionTrue || c.Reason != ReasonReplicaSetUpdated ||
		!c.LastUpdateTime.Time.Equal(t0.Add(31*time.Second)) {
		t.Fatalf("progress after the deadline: %+v", c)
	}
	d.Spec.Paused = true
	if c := progressing(t0.Add(time.Hour)); c.Reason != ReasonReplicaSetUpdated {
		t.Fatalf("paused deployment timed out: %+v", c)
	}
	d.Spec.Paused = false
	owned[0].Status.AvailableReplicas = 2
	if c := progressing(t0.Add(2 * time.Hour)); c.Reason != ReasonNewReplicaSetAvailable {
		t.Fatalf("complete rollout: %+v", c)
	}
}
