package controllers

import (
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func deployment(replicas int32, strategy appsv1.DeploymentStrategyType, surge, unavail int32) *appsv1.Deployment {
	s, u := intstr.FromInt32(surge), intstr.FromInt32(unavail)
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "d1"},
		Spec: appsv1.DeploymentSpec{Replicas: &replicas, Strategy: appsv1.DeploymentStrategy{Type: strategy},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "v2"}}}}}}
	if strategy == appsv1.RollingUpdateDeploymentStrategyType {
		d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxSurge: &s, MaxUnavailable: &u}
	}
	return d
}

// rs is a ReplicaSet of d: the new one (current template) or an old one.
func rs(d *appsv1.Deployment, isNew bool, rev int, spec, running, available int32) *appsv1.ReplicaSet {
	hash := TemplateHash(&d.Spec.Template)
	if !isNew {
		hash = fmt.Sprintf("old%d", rev)
	}
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web-" + hash, UID: types.UID(hash),
			Labels:      map[string]string{PodTemplateHashLabel: hash},
			Annotations: map[string]string{RevisionAnnotation: fmt.Sprint(rev)}},
		Spec:   appsv1.ReplicaSetSpec{Replicas: &spec},
		Status: appsv1.ReplicaSetStatus{Replicas: running, AvailableReplicas: available, ReadyReplicas: available},
	}
}

func scales(p DeploymentPlan) string {
	s := ""
	for _, r := range p.Update {
		s += fmt.Sprintf("%s=%d ", r.Name, *r.Spec.Replicas)
	}
	for _, r := range p.Delete {
		s += "delete:" + r.Name + " "
	}
	return s
}

func TestPlanDeployment(t *testing.T) {
	roll := appsv1.RollingUpdateDeploymentStrategyType
	d := deployment(3, roll, 1, 0)
	newName := "web-" + TemplateHash(&d.Spec.Template)
	cases := []struct {
		name  string
		d     *appsv1.Deployment
		owned []*appsv1.ReplicaSet
		want  string
	}{
		{"surge one new pod while old are all available", d,
			[]*appsv1.ReplicaSet{rs(d, false, 1, 3, 3, 3), rs(d, true, 2, 0, 0, 0)}, newName + "=1 "},
		{"new pod not available yet: nothing to scale down", d,
			[]*appsv1.ReplicaSet{rs(d, false, 1, 3, 3, 3), rs(d, true, 2, 1, 1, 0)}, ""},
		{"new pod available: one old pod goes", d,
			[]*appsv1.ReplicaSet{rs(d, false, 1, 3, 3, 3), rs(d, true, 2, 1, 1, 1)}, "web-old1=2 "},
		{"unavailable old pods go first, within the surge budget", deployment(3, roll, 1, 1),
			[]*appsv1.ReplicaSet{rs(d, false, 1, 3, 3, 1), rs(d, true, 2, 1, 1, 0)}, "web-old1=2 "},
		{"only the new one: scale to desired", d, []*appsv1.ReplicaSet{rs(d, true, 2, 5, 5, 5), rs(d, false, 1, 0, 0, 0)}, newName + "=3 "},
		{"recreate: old to zero first", deployment(3, appsv1.RecreateDeploymentStrategyType, 0, 0),
			[]*appsv1.ReplicaSet{rs(d, false, 1, 3, 3, 3), rs(d, true, 2, 0, 0, 0)}, "web-old1=0 "},
		{"recreate: waits for old pods to be gone", deployment(3, appsv1.RecreateDeploymentStrategyType, 0, 0),
			[]*appsv1.ReplicaSet{rs(d, false, 1, 0, 2, 0), rs(d, true, 2, 0, 0, 0)}, ""},
		{"recreate: then the new one", deployment(3, appsv1.RecreateDeploymentStrategyType, 0, 0),
			[]*appsv1.ReplicaSet{rs(d, false, 1, 0, 0, 0), rs(d, true, 2, 0, 0, 0)}, newName + "=3 "},
		{"rollback makes the new one the latest revision", d,
			[]*appsv1.ReplicaSet{rs(d, true, 1, 3, 3, 3), rs(d, false, 2, 0, 0, 0)}, newName + "=3 "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := PlanDeployment(tc.d, tc.owned, t0)
			if p.Create != nil {
				t.Fatalf("unexpected create %s", p.Create.Name)
			}
			if got := scales(p); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
	p := PlanDeployment(d, []*appsv1.ReplicaSet{rs(d, true, 1, 3, 3, 3), rs(d, false, 2, 0, 0, 0)}, t0)
	if r := p.Update[0].Annotations[RevisionAnnotation]; r != "3" {
		t.Fatalf("rollback revision %q, want 3", r)
	}
}

func TestPlanDeploymentCreatesAndTrimsHistory(t *testing.T) {
	d := deployment(4, appsv1.RollingUpdateDeploymentStrategyType, 1, 0)
	p := PlanDeployment(d, []*appsv1.ReplicaSet{rs(d, false, 7, 4, 4, 4)}, t0)
	if p.Create == nil || *p.Create.Spec.Replicas != 1 || p.Create.Annotations[RevisionAnnotation] != "8" ||
		p.Create.Spec.Selector.MatchLabels[PodTemplateHashLabel] != TemplateHash(&d.Spec.Template) {
		t.Fatalf("create %+v", p.Create)
	}
	two := int32(2)
	d.Spec.RevisionHistoryLimit = &two
	owned := []*appsv1.ReplicaSet{rs(d, true, 5, 4, 4, 4)}
	for rev := 1; rev <= 4; rev++ {
		owned = append(owned, rs(d, false, rev, 0, 0, 0))
	}
	if got := scales(PlanDeployment(d, owned, t0)); got != "delete:web-old1 delete:web-old2 " {
		t.Fatalf("history: %q", got)
	}
}

// TestPlanDeploymentPaused: a template changed while paused (kubectl
// rollout pause; set env; set resources) makes no ReplicaSet; resuming
// makes one.
func TestPlanDeploymentPaused(t *testing.T) {
	d := deployment(2, appsv1.RollingUpdateDeploymentStrategyType, 1, 0)
	owned := []*appsv1.ReplicaSet{rs(d, false, 1, 2, 2, 2)}
	d.Spec.Paused = true
	if p := PlanDeployment(d, owned, t0); p.Create != nil || len(p.Update) != 0 || len(p.Delete) != 0 {
		t.Fatalf("paused: create %v, %q, want no change", p.Create != nil, scales(p))
	}
	d.Spec.Paused = false
	if p := PlanDeployment(d, owned, t0); p.Create == nil || p.Create.Annotations[RevisionAnnotation] != "2" {
		t.Fatalf("resumed: create %+v, want revision 2", p.Create)
	}
}

func node(ready corev1.ConditionStatus, heartbeat time.Time, taints ...corev1.Taint) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n", CreationTimestamp: metav1.NewTime(t0.Add(-time.Hour))},
		Spec: corev1.NodeSpec{Taints: taints},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: ready,
			LastHeartbeatTime: metav1.NewTime(heartbeat)}}}}
}

func TestPlanNode(t *testing.T) {
	grace, evict := 40*time.Second, 300*time.Second
	p := PlanNode(node(corev1.ConditionTrue, t0.Add(-10*time.Second)), nil, nil, t0, grace, evict)
	if p.Ready != nil || p.TaintsChanged {
		t.Fatalf("healthy node: %+v", p)
	}
	p = PlanNode(node(corev1.ConditionTrue, t0.Add(-41*time.Second)), nil, nil, t0, grace, evict)
	if p.Ready == nil || p.Ready.Status != corev1.ConditionUnknown || !p.TaintsChanged || len(p.Taints) != 2 {
		t.Fatalf("silent node: %+v", p)
	}
	// The Ready condition is written on change only: a renewed Lease
	// keeps a node whose condition is an hour old alive; a stale one
	// does not.
	lease := func(renewed time.Time) *coordinationv1.Lease {
		rt := metav1.NewMicroTime(renewed)
		return &coordinationv1.Lease{Spec: coordinationv1.LeaseSpec{RenewTime: &rt}}
	}
	if p = PlanNode(node(corev1.ConditionTrue, t0.Add(-time.Hour)), lease(t0.Add(-10*time.Second)), nil, t0, grace, evict); p.Ready != nil || p.TaintsChanged {
		t.Fatalf("node with a renewed lease: %+v", p)
	}
	if p = PlanNode(node(corev1.ConditionTrue, t0.Add(-time.Hour)), lease(t0.Add(-41*time.Second)), nil, t0, grace, evict); p.Ready == nil || p.Ready.Status != corev1.ConditionUnknown {
		t.Fatalf("node whose lease stopped: %+v", p)
	}
	added := metav1.NewTime(t0.Add(-200 * time.Second))
	tainted := node(corev1.ConditionUnknown, t0.Add(-time.Hour),
		corev1.Taint{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoSchedule},
		corev1.Taint{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute, TimeAdded: &added})
	secs := func(s int64) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprint(s)}, Spec: corev1.PodSpec{Tolerations: []corev1.Toleration{{
			Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: &s}}}}
	}
	plain := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "plain"}}
	p = PlanNode(tainted, nil, []*corev1.Pod{plain, secs(100), secs(250)}, t0, grace, evict)
	if p.Ready != nil || p.TaintsChanged || len(p.Evict) != 1 || p.Evict[0].Name != "100" {
		t.Fatalf("tainted node after 200s: changed %v evict %v", p.TaintsChanged, p.Evict)
	}
	p = PlanNode(tainted, nil, []*corev1.Pod{plain}, t0.Add(100*time.Second), grace, evict)
	if len(p.Evict) != 1 {
		t.Fatalf("plain pod not evicted after the default 300s")
	}
	back := node(corev1.ConditionTrue, t0, tainted.Spec.Taints...)
	if p = PlanNode(back, nil, nil, t0, grace, evict); !p.TaintsChanged || len(p.Taints) != 0 {
		t.Fatalf("recovered node keeps taints %+v", p.Taints)
	}
}

func TestPlanJob(t *testing.T) {
	five, two, one := int32(5), int32(2), int32(1)
	j := &batchv1.Job{Spec: batchv1.JobSpec{Completions: &five, Parallelism: &two, BackoffLimit: &one}}
	pod := func(phase corev1.PodPhase) *corev1.Pod { return &corev1.Pod{Status: corev1.PodStatus{Phase: phase}} }
	if p := PlanJob(j, nil, t0); p.Create != 2 || p.Status.StartTime == nil {
		t.Fatalf("start: %+v", p)
	}
	p := PlanJob(j, []*corev1.Pod{pod(corev1.PodSucceeded), pod(corev1.PodSucceeded), pod(corev1.PodSucceeded), pod(corev1.PodSucceeded), pod(corev1.PodRunning)}, t0)
	if p.Create != 0 || p.Status.Active != 1 || p.Status.Succeeded != 4 || p.Finished != nil {
		t.Fatalf("last one running: %+v", p)
	}
	p = PlanJob(j, []*corev1.Pod{pod(corev1.PodFailed), pod(corev1.PodFailed), pod(corev1.PodRunning)}, t0)
	if p.Finished == nil || p.Finished.Reason != batchv1.JobReasonBackoffLimitExceeded || len(p.Delete) != 1 {
		t.Fatalf("backoff: %+v", p)
	}
	dl := int64(10)
	j.Spec.ActiveDeadlineSeconds = &dl
	j.Status.StartTime = &metav1.Time{Time: t0.Add(-11 * time.Second)}
	if p = PlanJob(j, []*corev1.Pod{pod(corev1.PodRunning)}, t0); p.Finished == nil || p.Finished.Reason != batchv1.JobReasonDeadlineExceeded {
		t.Fatalf("deadline: %+v", p)
	}
}

func TestOrphans(t *testing.T) {
	dep := func(name string, owners ...metav1.OwnerReference) dependent {
		return dependent{obj: &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", OwnerReferences: owners}}}
	}
	ref := func(kind, name, uid string) metav1.OwnerReference {
		return metav1.OwnerReference{Kind: kind, Name: name, UID: types.UID(uid)}
	}
	live := map[string]types.UID{"ReplicaSet/a": "u1"}
	lookup := func(kind, ns, name string) (types.UID, bool, bool) {
		if kind == "Widget" {
			return "", false, false
		}
		uid, ok := live[kind+"/"+name]
		return uid, ok, true
	}
	got := Orphans([]dependent{
		dep("owned", ref("ReplicaSet", "a", "u1")),
		dep("recreated-owner", ref("ReplicaSet", "a", "old")),
		dep("gone", ref("ReplicaSet", "b", "u2")),
		dep("one-left", ref("ReplicaSet", "b", "u2"), ref("ReplicaSet", "a", "u1")),
		dep("unknown-kind", ref("Widget", "w", "u3")),
		dep("no-owner"),
	}, lookup)
	var names []string
	for _, d := range got {
		names = append(names, d.obj.GetName())
	}
	if fmt.Sprint(names) != "[recreated-owner gone]" {
		t.Fatalf("orphans %v", names)
	}
}
