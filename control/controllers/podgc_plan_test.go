package controllers

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestPlanNodeForceDelete: a terminating pod is force-deleted only on a
// node that is not Ready and only once deletionTimestamp + grace passed.
func TestPlanNodeForceDelete(t *testing.T) {
	grace, evict := 40*time.Second, 300*time.Second
	terminating := func(name string, at time.Time, secs int64) *corev1.Pod {
		ts := metav1.NewTime(at)
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, DeletionTimestamp: &ts, DeletionGracePeriodSeconds: &secs}}
	}
	due := terminating("due", t0.Add(-31*time.Second), 30)     // deadline + 30 s grace passed
	early := terminating("early", t0.Add(-29*time.Second), 30) // 1 s to go
	running := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "running"}}
	pods := []*corev1.Pod{due, early, running}
	names := func(ps []*corev1.Pod) string {
		s := ""
		for _, p := range ps {
			s += p.Name + " "
		}
		return s
	}
	for _, tc := range []struct {
		name string
		node *corev1.Node
		want string
	}{
		{"ready", node(corev1.ConditionTrue, t0.Add(-time.Second)), ""},
		{"unknown", node(corev1.ConditionUnknown, t0.Add(-time.Hour)), "due "},
		{"not ready", node(corev1.ConditionFalse, t0.Add(-time.Second)), "due "},
		{"turning unknown now", node(corev1.ConditionTrue, t0.Add(-time.Minute)), "due "},
		{"never reported", &corev1.Node{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: metav1.NewTime(t0)}}, ""},
	} {
		p := PlanNode(tc.node, nil, pods, t0, grace, evict)
		if got := names(p.ForceDelete); got != tc.want {
			t.Errorf("%s: force-delete %q, want %q", tc.name, got, tc.want)
		}
	}
}
