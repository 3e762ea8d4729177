package controllers

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
)

// TestPlanDeploymentCopiesChangeCause: the Deployment's change-cause goes
// to a new ReplicaSet, and to the current one when it changes, for
// `weir rollout history`.
func TestPlanDeploymentCopiesChangeCause(t *testing.T) {
	d := deployment(2, appsv1.RollingUpdateDeploymentStrategyType, 1, 0)
	d.Annotations = map[string]string{ChangeCauseAnnotation: "image v2"}
	p := PlanDeployment(d, []*appsv1.ReplicaSet{rs(d, false, 1, 2, 2, 2)}, t0)
	if p.Create == nil || p.Create.Annotations[ChangeCauseAnnotation] != "image v2" || p.Create.Annotations[RevisionAnnotation] != "2" {
		t.Fatalf("new ReplicaSet annotations: %+v", p.Create)
	}
	cur := rs(d, true, 2, 2, 2, 2)
	d.Annotations[ChangeCauseAnnotation] = "scaled"
	p = PlanDeployment(d, []*appsv1.ReplicaSet{cur}, t0)
	if len(p.Update) != 1 || p.Update[0].Annotations[ChangeCauseAnnotation] != "scaled" {
		t.Fatalf("current ReplicaSet not updated with the new change-cause: %s", scales(p))
	}
	cur.Annotations[ChangeCauseAnnotation] = "scaled"
	if p = PlanDeployment(d, []*appsv1.ReplicaSet{cur}, t0); len(p.Update) != 0 {
		t.Fatalf("unchanged change-cause still updates: %s", scales(p))
	}
	delete(d.Annotations, ChangeCauseAnnotation)
	if p = PlanDeployment(d, []*appsv1.ReplicaSet{cur}, t0); len(p.Update) != 0 {
		t.Fatalf("a Deployment without change-cause must not clear the ReplicaSet's: %s", scales(p))
	}
}
