package scheduler

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestSchedule(t *testing.T) {
	tol := func(tols ...corev1.Toleration) func(*corev1.Pod) {
		return func(p *corev1.Pod) { p.Spec.Tolerations = tols }
	}
	cases := []struct {
		name  string
		pod   *corev1.Pod
		nodes []*corev1.Node
		pods  []*corev1.Pod
		want  string // node, or "" when unschedulable
		msg   string // FitError message when unschedulable
	}{
		{name: "least allocated wins", pod: pod("p", "1", "1Gi"),
			nodes: []*corev1.Node{node("a", "4", "8Gi", 10), node("b", "4", "8Gi", 10)},
			pods:  []*corev1.Pod{pod("x", "2", "4Gi", on("a"))}, want: "b"},
		{name: "balanced breaks a tie on free share", pod: pod("p", "1", "1Gi"),
			nodes: []*corev1.Node{node("a", "4", "4Gi", 10), node("b", "4", "4Gi", 10)},
			pods:  []*corev1.Pod{pod("x", "2", "0", on("a")), pod("y", "1", "1Gi", on("b"))}, want: "b"},
		{name: "insufficient cpu everywhere", pod: pod("p", "3", "1Gi"),
			nodes: []*corev1.Node{node("a", "2", "8Gi", 10), node("b", "2", "8Gi", 10)},
			msg:   "0/2 nodes are available: 2 Insufficient cpu."},
		{name: "mixed reasons, most frequent first", pod: pod("p", "1", "1Gi"),
			nodes: []*corev1.Node{node("a", "500m", "8Gi", 10), node("b", "500m", "8Gi", 10),
				node("c", "8", "8Gi", 10, taint("dedicated", "gpu", corev1.TaintEffectNoSchedule))},
			msg: "0/3 nodes are available: 2 Insufficient cpu, 1 node(s) had untolerated taint {dedicated: gpu}."},
		{name: "toleration lets the pod onto the tainted node", pod: pod("p", "1", "1Gi",
			tol(corev1.Toleration{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "gpu", Effect: corev1.TaintEffectNoSchedule})),
			nodes: []*corev1.Node{node("a", "500m", "8Gi", 10), node("c", "8", "8Gi", 10, taint("dedicated", "gpu", corev1.TaintEffectNoSchedule))},
			want:  "c"},
		{name: "exists toleration with empty key tolerates everything", pod: pod("p", "", "", tol(corev1.Toleration{Operator: corev1.TolerationOpExists})),
			nodes: []*corev1.Node{node("a", "1", "1Gi", 10, taint("x", "y", corev1.TaintEffectNoExecute))}, want: "a"},
		{name: "PreferNoSchedule does not filter", pod: pod("p", "", ""),
			nodes: []*corev1.Node{node("a", "1", "1Gi", 10, taint("x", "y", corev1.TaintEffectPreferNoSchedule))}, want: "a"},
		{name: "unschedulable node", pod: pod("p", "", ""),
			nodes: []*corev1.Node{node("a", "1", "1Gi", 10, func(n *corev1.Node) { n.Spec.Unschedulable = true })},
			msg:   "0/1 nodes are available: 1 node(s) were unschedulable."},
		{name: "too many pods", pod: pod("p", "", ""),
			nodes: []*corev1.Node{node("a", "4", "4Gi", 1)}, pods: []*corev1.Pod{pod("x", "", "", on("a"))},
			msg: "0/1 nodes are available: 1 Too many pods."},
		{name: "terminal pods free their resources", pod: pod("p", "2", ""),
			nodes: []*corev1.Node{node("a", "2", "4Gi", 10)},
			pods:  []*corev1.Pod{pod("x", "2", "", on("a"), func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded })},
			want:  "a"},
		{name: "nodeName", pod: pod("p", "", "", func(p *corev1.Pod) { p.Spec.NodeName = "b" }),
			nodes: []*corev1.Node{node("a", "4", "4Gi", 10), node("b", "4", "4Gi", 10)}, want: "b"},
		{name: "nodeSelector", pod: pod("p", "", "", func(p *corev1.Pod) { p.Spec.NodeSelector = map[string]string{"disk": "ssd"} }),
			nodes: []*corev1.Node{node("a", "4", "4Gi", 10), node("b", "4", "4Gi", 10, nodeLabel("disk", "ssd"))}, want: "b"},
		{name: "nodeSelector matches nothing", pod: pod("p", "", "", func(p *corev1.Pod) { p.Spec.NodeSelector = map[string]string{"disk": "ssd"} }),
			nodes: []*corev1.Node{node("a", "4", "4Gi", 10)},
			msg:   "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector."},
		{name: "required node affinity NotIn", pod: pod("p", "", "", requiredAffinity(corev1.NodeSelectorRequirement{
			Key: "zone", Operator: corev1.NodeSelectorOpNotIn, Values: []string{"z1"}})),
			nodes: []*corev1.Node{node("a", "4", "4Gi", 10, nodeLabel("zone", "z1")), node("b", "4", "4Gi", 10, nodeLabel("zone", "z2"))}, want: "b"},
		{name: "required node affinity Gt", pod: pod("p", "", "", requiredAffinity(corev1.NodeSelectorRequirement{
			Key: "gen", Operator: corev1.NodeSelectorOpGt, Values: []string{"3"}})),
			nodes: []*corev1.Node{node("a", "4", "4Gi", 10, nodeLabel("gen", "3")), node("b", "4", "4Gi", 10, nodeLabel("gen", "4"))}, want: "b"},
		{name: "preferred affinity beats a little free space", pod: pod("p", "100m", "", preferredAffinity2("zone", "z1", 100)),
			nodes: []*corev1.Node{node("a", "4", "4Gi", 10, nodeLabel("zone", "z1")), node("b", "4", "4Gi", 10, nodeLabel("zone", "z2"))},
			pods:  []*corev1.Pod{pod("x", "1", "", on("a"))}, want: "a"},
		{name: "host port conflict", pod: pod("p", "", "", hostPortOn(80)),
			nodes: []*corev1.Node{node("a", "4", "4Gi", 10), node("b", "4", "4Gi", 10)},
			pods:  []*corev1.Pod{pod("x", "", "", on("a"), hostPortOn(80)), pod("y", "1", "1Gi", on("b"), hostPortOn(81))}, want: "b"},
		{name: "host port conflict everywhere", pod: pod("p", "", "", hostPortOn(80)),
			nodes: []*corev1.Node{node("a", "4", "4Gi", 10)}, pods: []*corev1.Pod{pod("x", "", "", on("a"), hostPortOn(80))},
			msg: "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports."},
		{name: "anti-affinity spreads", pod: pod("p", "", "", labelled("app", "web"), antiAffinity("app", "web")),
			nodes: []*corev1.Node{node("a", "4", "4Gi", 10), node("b", "4", "4Gi", 10)},
			pods:  []*corev1.Pod{pod("x", "", "", on("b"), labelled("app", "web")), pod("y", "3", "3Gi", on("a"))}, want: "a"},
		{name: "anti-affinity everywhere", pod: pod("p", "", "", labelled("app", "web"), antiAffinity("app", "web")),
			nodes: []*corev1.Node{node("a", "4", "4Gi", 10)}, pods: []*corev1.Pod{pod("x", "", "", on("a"), labelled("app", "web"))},
			msg: "0/1 nodes are available: 1 node(s) didn't match pod anti-affinity rules."},
		{name: "existing pod's anti-affinity", pod: pod("p", "", "", labelled("app", "db")),
			nodes: []*corev1.Node{node("a", "4", "4Gi", 10)}, pods: []*corev1.Pod{pod("x", "", "", on("a"), antiAffinity("app", "db"))},
			msg: "0/1 nodes are available: 1 node(s) didn't satisfy existing pods anti-affinity rules."},
		{name: "anti-affinity in another namespace does not apply", pod: pod("p", "", "", labelled("app", "web"), antiAffinity("app", "web")),
			nodes: []*corev1.Node{node("a", "4", "4Gi", 10)},
			pods:  []*corev1.Pod{pod("x", "", "", on("a"), labelled("app", "web"), func(p *corev1.Pod) { p.Namespace = "other" })}, want: "a"},
		{name: "no nodes", pod: pod("p", "", ""), msg: "0/0 nodes are available."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, fe := Schedule(tc.pod, tc.nodes, tc.pods)
			if tc.want != "" {
				if fe != nil || d.Node != tc.want {
					t.Fatalf("got node %q err %v, want %q", d.Node, fe, tc.want)
				}
				return
			}
			if fe == nil {
				t.Fatalf("scheduled on %q, want unschedulable", d.Node)
			}
			if fe.Error() != tc.msg {
				t.Fatalf("message:\n got %q\nwant %q", fe.Error(), tc.msg)
			}
		})
	}
}

func requiredAffinity(r corev1.NodeSelectorRequirement) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
				NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{r}}}}}}
	}
}

func preferredAffinity2(k, v string, w int32) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
			PreferredDuringSchedulingIgnoredDuringExecution: []corev1.PreferredSchedulingTerm{{Weight: w,
				Preference: corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{
					{Key: k, Operator: corev1.NodeSelectorOpIn, Values: []string{v}}}}}}}}
	}
}

// TestScheduleSpreads places 20 equal pods on 4 equal nodes one by one:
// least-allocated spreads them 5 per node.
func TestScheduleSpreads(t *testing.T) {
	ns := nodes(4, "4", "8Gi")
	var placed []*corev1.Pod
	for i := 0; i < 20; i++ {
		p := pod("p"+string(rune('a'+i)), "100m", "128Mi")
		d, fe := Schedule(p, ns, placed)
		if fe != nil {
			t.Fatalf("pod %d: %v", i, fe)
		}
		p.Spec.NodeName = d.Node
		placed = append(placed, p)
	}
	count := map[string]int{}
	for _, p := range placed {
		count[p.Spec.NodeName]++
	}
	for _, n := range ns {
		if count[n.Name] != 5 {
			t.Fatalf("spread %v, want 5 per node", count)
		}
	}
}

func TestNumFeasibleToFind(t *testing.T) {
	for _, c := range []struct{ n, want int }{{10, 10}, {99, 99}, {100, 100}, {1000, 420}, {5000, 500}, {100000, 5000}} {
		if got := NumFeasibleToFind(c.n); got != c.want {
			t.Errorf("NumFeasibleToFind(%d) = %d, want %d", c.n, got, c.want)
		}
	}
}
