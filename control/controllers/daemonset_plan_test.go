package controllers

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func daemonSet(maxUnavailable string) *appsv1.DaemonSet {
	mu := intstr.Parse(maxUnavailable)
	return &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "default", UID: "ds1", Generation: 3},
		Spec: appsv1.DaemonSetSpec{
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "agent"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "v2"}}}},
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: &mu}}}}
}

func dsNode(name string, labels map[string]string, taints ...corev1.Taint) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}, Spec: corev1.NodeSpec{Taints: taints}}
}

// daemonPod is a pod of the DaemonSet on node with template hash, created
// age ago; available means Ready.
func daemonPod(name, node, hash string, available bool, age time.Duration) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID(name),
		Labels:            map[string]string{appsv1.DefaultDaemonSetUniqueLabelKey: hash},
		CreationTimestamp: metav1.NewTime(t0.Add(-age))},
		Spec:   *DaemonPodSpec(&corev1.PodSpec{}, node),
		Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	if available {
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	}
	return p
}

func dsPlan(p DaemonSetPlan) string {
	var del []string
	for _, d := range p.Delete {
		del = append(del, d.Name)
	}
	sort.Strings(del)
	s := p.Status
	return fmt.Sprintf("create=%v delete=%v desired=%d current=%d ready=%d updated=%d available=%d unavailable=%d misscheduled=%d gen=%d",
		p.Create, del, s.DesiredNumberScheduled, s.CurrentNumberScheduled, s.NumberReady, s.UpdatedNumberScheduled,
		s.NumberAvailable, s.NumberUnavailable, s.NumberMisscheduled, s.ObservedGeneration)
}

func TestPlanDaemonSet(t *testing.T) {
	worker := map[string]string{"role": "worker"}
	noExec := corev1.Taint{Key: "gpu", Value: "x", Effect: corev1.TaintEffectNoExecute}
	noSched := corev1.Taint{Key: "gpu", Value: "x", Effect: corev1.TaintEffectNoSchedule}
	ds := daemonSet("1")
	hash := "new"
	selected := daemonSet("1")
	selected.Spec.Template.Spec.NodeSelector = worker
	affinity := daemonSet("1")
	affinity.Spec.Template.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
			MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "role", Operator: corev1.NodeSelectorOpIn, Values: []string{"worker"}}}}}}}}
	onDelete := daemonSet("1")
	onDelete.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType}
	half := daemonSet("50%")
	terminating := daemonPod("old-b", "b", "old", true, time.Hour)
	terminating.DeletionTimestamp = &metav1.Time{Time: t0}
	failed := daemonPod("failed-a", "a", hash, false, time.Hour)
	failed.Status.Phase = corev1.PodFailed
	cases := []struct {
		name  string
		ds    *appsv1.DaemonSet
		nodes []*corev1.Node
		pods  []*corev1.Pod
		want  string
	}{
		{"a pod per node", ds, []*corev1.Node{dsNode("a", nil), dsNode("b", nil)}, nil,
			"create=[a b] delete=[] desired=2 current=0 ready=0 updated=0 available=0 unavailable=2 misscheduled=0 gen=3"},
		{"node selector", selected, []*corev1.Node{dsNode("a", worker), dsNode("b", nil)}, []*corev1.Pod{daemonPod("p-b", "b", hash, true, time.Hour)},
			"create=[a] delete=[p-b] desired=1 current=0 ready=0 updated=0 available=0 unavailable=1 misscheduled=1 gen=3"},
		{"required node affinity", affinity, []*corev1.Node{dsNode("a", worker), dsNode("b", nil)}, nil,
			"create=[a] delete=[] desired=1 current=0 ready=0 updated=0 available=0 unavailable=1 misscheduled=0 gen=3"},
		{"NoSchedule taint: no new pod, the running one stays", ds,
			[]*corev1.Node{dsNode("a", nil, noSched), dsNode("b", nil, noSched)}, []*corev1.Pod{daemonPod("p-a", "a", hash, true, time.Hour)},
			"create=[] delete=[] desired=0 current=0 ready=0 updated=0 available=0 unavailable=0 misscheduled=1 gen=3"},
		{"NoExecute taint evicts", ds, []*corev1.Node{dsNode("a", nil, noExec)}, []*corev1.Pod{daemonPod("p-a", "a", hash, true, time.Hour)},
			"create=[] delete=[p-a] desired=0 current=0 ready=0 updated=0 available=0 unavailable=0 misscheduled=1 gen=3"},
		{"default tolerations: unschedulable, not-ready, unreachable nodes run the daemon", ds,
			[]*corev1.Node{
				dsNode("a", nil, corev1.Taint{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule}),
				dsNode("b", nil, corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoExecute}),
				dsNode("c", nil, corev1.Taint{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute}),
			}, nil,
			"create=[a b c] delete=[] desired=3 current=0 ready=0 updated=0 available=0 unavailable=3 misscheduled=0 gen=3"},
		{"steady", ds, []*corev1.Node{dsNode("a", nil), dsNode("b", nil)},
			[]*corev1.Pod{daemonPod("p-a", "a", hash, true, time.Hour), daemonPod("p-b", "b", hash, false, time.Hour)},
			"create=[] delete=[] desired=2 current=2 ready=1 updated=2 available=1 unavailable=1 misscheduled=0 gen=3"},
		{"duplicates: the oldest stays", ds, []*corev1.Node{dsNode("a", nil)},
			[]*corev1.Pod{daemonPod("young", "a", hash, true, time.Minute), daemonPod("old", "a", hash, true, time.Hour)},
			"create=[] delete=[young] desired=1 current=1 ready=1 updated=1 available=1 unavailable=0 misscheduled=0 gen=3"},
		{"failed pod deleted, replaced once gone", ds, []*corev1.Node{dsNode("a", nil)}, []*corev1.Pod{failed},
			"create=[] delete=[failed-a] desired=1 current=0 ready=0 updated=0 available=0 unavailable=1 misscheduled=0 gen=3"},
		{"node gone: the unbound pod goes", ds, []*corev1.Node{dsNode("a", nil)},
			[]*corev1.Pod{daemonPod("p-a", "a", hash, true, time.Hour), daemonPod("p-x", "x", hash, false, time.Hour)},
			"create=[] delete=[p-x] desired=1 current=1 ready=1 updated=1 available=1 unavailable=0 misscheduled=0 gen=3"},
		{"rolling update: one at a time", ds, []*corev1.Node{dsNode("a", nil), dsNode("b", nil), dsNode("c", nil)},
			[]*corev1.Pod{daemonPod("old-a", "a", "old", true, time.Hour), daemonPod("old-b", "b", "old", true, time.Hour),
				daemonPod("old-c", "c", "old", true, time.Hour)},
			"create=[] delete=[old-a] desired=3 current=3 ready=3 updated=0 available=3 unavailable=0 misscheduled=0 gen=3"},
		{"rolling update: a node being replaced uses the budget", ds, []*corev1.Node{dsNode("a", nil), dsNode("b", nil), dsNode("c", nil)},
			[]*corev1.Pod{daemonPod("new-a", "a", hash, true, time.Minute), terminating, daemonPod("old-c", "c", "old", true, time.Hour)},
			"create=[] delete=[] desired=3 current=2 ready=2 updated=1 available=2 unavailable=1 misscheduled=0 gen=3"},
		{"rolling update: unavailable old pods go at once", ds, []*corev1.Node{dsNode("a", nil), dsNode("b", nil), dsNode("c", nil)},
			[]*corev1.Pod{daemonPod("old-a", "a", "old", false, time.Hour), daemonPod("old-b", "b", "old", false, time.Hour),
				daemonPod("old-c", "c", "old", true, time.Hour)},
			"create=[] delete=[old-a old-b] desired=3 current=3 ready=1 updated=0 available=1 unavailable=2 misscheduled=0 gen=3"},
		{"rolling update: maxUnavailable 50% of 4", half, []*corev1.Node{dsNode("a", nil), dsNode("b", nil), dsNode("c", nil), dsNode("d", nil)},
			[]*corev1.Pod{daemonPod("old-a", "a", "old", true, time.Hour), daemonPod("old-b", "b", "old", true, time.Hour),
				daemonPod("old-c", "c", "old", true, time.Hour), daemonPod("old-d", "d", "old", true, time.Hour)},
			"create=[] delete=[old-a old-b] desired=4 current=4 ready=4 updated=0 available=4 unavailable=0 misscheduled=0 gen=3"},
		{"OnDelete: old pods stay", onDelete, []*corev1.Node{dsNode("a", nil)}, []*corev1.Pod{daemonPod("old-a", "a", "old", true, time.Hour)},
			"create=[] delete=[] desired=1 current=1 ready=1 updated=0 available=1 unavailable=0 misscheduled=0 gen=3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := dsPlan(PlanDaemonSet(c.ds, c.nodes, c.pods, hash, t0)); got != c.want {
				t.Fatalf("\n got %s\nwant %s", got, c.want)
			}
		})
	}
}

// TestDaemonPodSpec: the pod is pinned to its node by a metadata.name
// matchFields term that replaces the template's required terms (the
// preferred ones stay), and carries kube's daemon tolerations once.
func TestDaemonPodSpec(t *testing.T) {
	tpl := &corev1.PodSpec{HostNetwork: true,
		Tolerations: []corev1.Toleration{{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute}},
		Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "role", Operator: corev1.NodeSelectorOpExists}}}}},
			PreferredDuringSchedulingIgnoredDuringExecution: []corev1.PreferredSchedulingTerm{{Weight: 1}}}}}
	s := DaemonPodSpec(tpl, "node-a")
	req := s.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	if len(req) != 1 || len(req[0].MatchExpressions) != 0 || req[0].MatchFields[0].Key != "metadata.name" || req[0].MatchFields[0].Values[0] != "node-a" {
		t.Fatalf("required terms %+v", req)
	}
	if len(s.Affinity.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution) != 1 {
		t.Fatal("preferred terms dropped")
	}
	var keys []string
	for _, tol := range s.Tolerations {
		keys = append(keys, tol.Key)
	}
	want := "node.kubernetes.io/not-ready node.kubernetes.io/unreachable node.kubernetes.io/disk-pressure node.kubernetes.io/memory-pressure node.kubernetes.io/pid-pressure node.kubernetes.io/unschedulable node.kubernetes.io/network-unavailable"
	if got := strings.Join(keys, " "); got != want {
		t.Fatalf("tolerations %s", got)
	}
	if tpl.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions == nil {
		t.Fatal("template changed")
	}
	if daemonPodNode(&corev1.Pod{Spec: *s}) != "node-a" {
		t.Fatal("daemonPodNode")
	}
}

func revision(name, hash string, n int64) *appsv1.ControllerRevision {
	return &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: name,
		Labels: map[string]string{appsv1.DefaultDaemonSetUniqueLabelKey: hash}}, Revision: n}
}

// TestPlanDaemonSetHistory: the current template's revision is created
// as the newest, renumbered when an old template comes back, and old
// revisions that no pod runs go beyond revisionHistoryLimit.
func TestPlanDaemonSetHistory(t *testing.T) {
	ds := daemonSet("1")
	one := int32(1)
	ds.Spec.RevisionHistoryLimit = &one
	hash := TemplateHash(&ds.Spec.Template)
	h, err := PlanDaemonSetHistory(ds, []*appsv1.ControllerRevision{revision("agent-a", "a", 1), revision("agent-b", "b", 2)},
		[]*corev1.Pod{daemonPod("p", "n1", "a", true, time.Hour)}, hash)
	if err != nil {
		t.Fatal(err)
	}
	c := h.Create
	if c == nil || c.Name != "agent-"+hash || c.Revision != 3 || c.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] != hash ||
		c.Labels["app"] != "agent" || controllerOf(c) == nil || controllerOf(c).UID != ds.UID {
		t.Fatalf("create %+v", c)
	}
	want := `{"spec":{"template":{"$patch":"replace","metadata":{"labels":{"app":"agent"}},"spec":{"containers":[{"image":"v2","name":"c","resources":{}}]}}}}`
	if string(c.Data.Raw) != want {
		t.Fatalf("data\n got %s\nwant %s", c.Data.Raw, want)
	}
	if h.Renumber != nil || len(h.Delete) != 0 { // agent-a runs, agent-b is the one kept
		t.Fatalf("renumber %v delete %v", h.Renumber, h.Delete)
	}
	h, _ = PlanDaemonSetHistory(ds, []*appsv1.ControllerRevision{revision("agent-a", "a", 1), revision("agent-b", "b", 2),
		revision("agent-"+hash, hash, 1), revision("agent-c", "c", 3)}, nil, hash)
	if h.Create != nil || h.Renumber == nil || h.Renumber.Revision != 4 || len(h.Delete) != 2 ||
		h.Delete[0].Name != "agent-a" || h.Delete[1].Name != "agent-b" {
		t.Fatalf("rollback: %+v", h)
	}
}
