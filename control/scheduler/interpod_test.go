package scheduler

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const zone = "topology.kubernetes.io/zone"

func term(k, v, key string) corev1.PodAffinityTerm {
	return corev1.PodAffinityTerm{LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{k: v}}, TopologyKey: key}
}

func withAffinity(a *corev1.Affinity) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Spec.Affinity = a }
}

// zoned: a, b in zone z1; c in z2; d has no zone label.
func zoned() []*corev1.Node {
	return []*corev1.Node{node("a", "4", "8Gi", 110, nodeLabel(zone, "z1")), node("b", "4", "8Gi", 110, nodeLabel(zone, "z1")),
		node("c", "4", "8Gi", 110, nodeLabel(zone, "z2")), node("d", "4", "8Gi", 110)}
}

// TestRequiredPodAffinity: a pod with required affinity to app=db by zone
// goes only to nodes of a zone that runs such a pod; nodes without the
// zone label never fit; with no db pod anywhere it is unschedulable,
// unless it matches its own term (the first of a self-affine group).
func TestRequiredPodAffinity(t *testing.T) {
	ns := zoned()
	web := pod("web", "", "", labelled("app", "web"), withAffinity(&corev1.Affinity{PodAffinity: &corev1.PodAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{term("app", "db", zone)}}}))
	db := pod("db", "", "", labelled("app", "db"), on("c"))
	d, err := Schedule(web, ns, []*corev1.Pod{db})
	if err != nil || d.Node != "c" || d.Feasible != 1 {
		t.Fatalf("with db on c (z2): %+v %v, want c alone feasible", d, err)
	}
	db.Spec.NodeName = "a"
	if d, err := Schedule(web, ns, []*corev1.Pod{db}); err != nil || d.Feasible != 2 || (d.Node != "a" && d.Node != "b") {
		t.Errorf("with db on a (z1): %+v %v, want a or b", d, err)
	}
	_, err = Schedule(web, ns, nil)
	if err == nil || err.Reasons[ReasonAffinity] != 4 {
		t.Errorf("no db pod: %v, want all 4 nodes refused with %q", err, ReasonAffinity)
	}
	self := pod("db-0", "", "", labelled("app", "db"), withAffinity(&corev1.Affinity{PodAffinity: &corev1.PodAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{term("app", "db", zone)}}}))
	if d, err := Schedule(self, ns, nil); err != nil || d.Feasible != 3 {
		t.Errorf("first self-affine pod: %+v %v, want the 3 zoned nodes feasible", d, err)
	}
	// Another namespace's db does not count (terms default to the pod's).
	other := pod("db", "", "", labelled("app", "db"), on("c"))
	other.Namespace = "other"
	if _, err := Schedule(web, ns, []*corev1.Pod{other}); err == nil {
		t.Errorf("a db pod in another namespace satisfied the term")
	}
}

// TestPreferredPodAffinity: preferred affinity pulls the pod to the
// domain of matching pods, preferred anti-affinity pushes it away, and a
// placed pod's preferred anti-affinity toward the pod pushes it too.
func TestPreferredPodAffinity(t *testing.T) {
	ns := nodes(3, "4", "8Gi")
	cache := pod("cache", "", "", labelled("app", "cache"), on("n2"))
	near := pod("web", "", "", withAffinity(&corev1.Affinity{PodAffinity: &corev1.PodAffinity{
		PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{Weight: 50, PodAffinityTerm: term("app", "cache", corev1.LabelHostname)}}}}))
	if d, err := Schedule(near, ns, []*corev1.Pod{cache}); err != nil || d.Node != "n2" {
		t.Errorf("preferred affinity: %+v %v, want n2", d, err)
	}
	// Spread web pods: anti-affinity to their own label.
	var placed []*corev1.Pod
	count := map[string]int{}
	for i := 0; i < 3; i++ {
		p := pod(fmt.Sprintf("w%d", i), "", "", labelled("app", "w"), withAffinity(&corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
			PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{Weight: 100, PodAffinityTerm: term("app", "w", corev1.LabelHostname)}}}}))
		d, err := Schedule(p, ns, placed)
		if err != nil {
			t.Fatal(err)
		}
		count[d.Node]++
		p.Spec.NodeName = d.Node
		placed = append(placed, p)
	}
	if len(count) != 3 {
		t.Errorf("3 pods with preferred anti-affinity to each other: %v, want one per node", count)
	}
	// Symmetry: a placed loner prefers no app=x near it.
	loner := pod("loner", "", "", on("n0"), withAffinity(&corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
		PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{Weight: 100, PodAffinityTerm: term("app", "x", corev1.LabelHostname)}}}}))
	x := pod("x", "", "", labelled("app", "x"))
	two := nodes(2, "4", "8Gi")
	if d, err := Schedule(x, two, []*corev1.Pod{loner}); err != nil || d.Node != "n1" {
		t.Errorf("placed pod's preferred anti-affinity: %+v %v, want n1", d, err)
	}
}

func spreadPod(name string, skew int32, key string, when corev1.UnsatisfiableConstraintAction, mods ...func(*corev1.Pod)) *corev1.Pod {
	return pod(name, "", "", append([]func(*corev1.Pod){labelled("app", "s"), func(p *corev1.Pod) {
		p.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{MaxSkew: skew, TopologyKey: key, WhenUnsatisfiable: when,
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "s"}}}}
	}}, mods...)...)
}

// TestTopologySpreadFilter: DoNotSchedule keeps the skew between zones
// within maxSkew, never uses a node without the key, honours minDomains,
// and counts only nodes that match the pod's node selector.
func TestTopologySpreadFilter(t *testing.T) {
	ns := zoned()
	var placed []*corev1.Pod
	perZone := map[string]int{}
	for i := 0; i < 6; i++ {
		p := spreadPod(fmt.Sprintf("s%d", i), 1, zone, corev1.DoNotSchedule)
		d, err := Schedule(p, ns, placed)
		if err != nil {
			t.Fatalf("pod %d: %v", i, err)
		}
		if d.Node == "d" {
			t.Fatalf("pod %d went to d, which has no zone label", i)
		}
		z := map[string]string{"a": "z1", "b": "z1", "c": "z2"}[d.Node]
		perZone[z]++
		if diff := perZone["z1"] - perZone["z2"]; diff > 1 || diff < -1 {
			t.Fatalf("after pod %d: %v, skew over 1", i, perZone)
		}
		p.Spec.NodeName = d.Node
		placed = append(placed, p)
	}
	// z1 is full of pods' choices blocked: with 2 in z1 and 1 in z2, the
	// next must go to z2.
	placed = []*corev1.Pod{spreadPod("x1", 1, zone, corev1.DoNotSchedule, on("a")), spreadPod("x2", 1, zone, corev1.DoNotSchedule, on("b")),
		spreadPod("x3", 1, zone, corev1.DoNotSchedule, on("c"))}
	placed = append(placed, spreadPod("x4", 1, zone, corev1.DoNotSchedule, on("a")))
	d, err := Schedule(spreadPod("next", 1, zone, corev1.DoNotSchedule), ns, placed)
	if err != nil || d.Node != "c" {
		t.Errorf("3 in z1, 1 in z2: %+v %v, want c", d, err)
	}
	_, fe := Schedule(spreadPod("next", 1, zone, corev1.DoNotSchedule), ns[:2], placed[:2])
	if fe != nil {
		t.Errorf("one zone only (a, b): %v; with a single domain the skew is 0", fe)
	}
	// minDomains 3 with 2 zones: the minimum counts as 0, so a zone with
	// a pod already refuses another at maxSkew 1.
	three := int32(3)
	md := spreadPod("md", 1, zone, corev1.DoNotSchedule, func(p *corev1.Pod) { p.Spec.TopologySpreadConstraints[0].MinDomains = &three })
	_, fe = Schedule(md, ns, []*corev1.Pod{spreadPod("y1", 1, zone, corev1.DoNotSchedule, on("a")), spreadPod("y2", 1, zone, corev1.DoNotSchedule, on("c"))})
	if fe == nil || fe.Reasons[ReasonSpread] != 3 || fe.Reasons[ReasonSpreadLabel] != 1 {
		t.Errorf("minDomains 3 over 2 zones: %v", fe)
	}
	if fe != nil && !strings.Contains(fe.Error(), "didn't match pod topology spread constraints (missing required label)") {
		t.Errorf("message %q", fe.Error())
	}
}

// TestTopologySpreadScore: ScheduleAnyway prefers the zone with fewer
// matching pods but never refuses.
func TestTopologySpreadScore(t *testing.T) {
	ns := zoned()
	placed := []*corev1.Pod{spreadPod("p1", 1, zone, corev1.ScheduleAnyway, on("a")), spreadPod("p2", 1, zone, corev1.ScheduleAnyway, on("b"))}
	d, err := Schedule(spreadPod("next", 1, zone, corev1.ScheduleAnyway), ns, placed)
	if err != nil || d.Node != "c" {
		t.Errorf("2 in z1, 0 in z2: %+v %v, want c", d, err)
	}
	full := nodes(1, "4", "8Gi")
	full[0].Labels[zone] = "z1"
	if _, err := Schedule(spreadPod("next", 1, zone, corev1.ScheduleAnyway), full, placed); err != nil {
		t.Errorf("ScheduleAnyway refused: %v", err)
	}
}
