package scheduler

import (
	"math"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
)

// Reasons of the topology spread filter, worded as kube-scheduler's.
const (
	ReasonSpread      = "node(s) didn't match pod topology spread constraints"
	ReasonSpreadLabel = ReasonSpread + " (missing required label)"
)

// spreadConstraint is a compiled topologySpreadConstraint.
type spreadConstraint struct {
	maxSkew       int64
	minDomains    int
	key           string
	selector      labels.Selector
	honorAffinity bool // nodeAffinityPolicy Honor (the default)
	honorTaints   bool // nodeTaintsPolicy Honor (default Ignore)
}

// spreadConstraints compiles p's constraints into the DoNotSchedule
// (filter) and ScheduleAnyway (score) ones. matchLabelKeys add
// `key in (the pod's value)` to the selector, as kube-scheduler does.
func spreadConstraints(p *corev1.Pod) (hard, soft []spreadConstraint) {
	for _, c := range p.Spec.TopologySpreadConstraints {
		sel, err := metav1.LabelSelectorAsSelector(c.LabelSelector)
		if err != nil || c.LabelSelector == nil {
			sel = labels.Nothing()
		}
		for _, k := range c.MatchLabelKeys {
			if v, ok := p.Labels[k]; ok {
				if r, err := labels.NewRequirement(k, selection.In, []string{v}); err == nil {
					sel = sel.Add(*r)
				}
			}
		}
		sc := spreadConstraint{maxSkew: int64(c.MaxSkew), key: c.TopologyKey, selector: sel,
			honorAffinity: c.NodeAffinityPolicy == nil || *c.NodeAffinityPolicy == corev1.NodeInclusionPolicyHonor,
			honorTaints:   c.NodeTaintsPolicy != nil && *c.NodeTaintsPolicy == corev1.NodeInclusionPolicyHonor}
		if c.MinDomains != nil {
			sc.minDomains = int(*c.MinDomains)
		}
		if c.WhenUnsatisfiable == corev1.ScheduleAnyway {
			soft = append(soft, sc)
		} else {
			hard = append(hard, sc)
		}
	}
	return hard, soft
}

// spreadCounts are, per constraint, the matching pods in each domain of
// the nodes the constraint counts (domains without pods included).
type spreadCounts []map[string]int

// countSpread counts, for each constraint, the placed pods of the pod's
// namespace that match its selector and are not being deleted, over the
// nodes that carry every constraint's key and pass its node policies.
func countSpread(pi *podInfo, cs []spreadConstraint, infos []*NodeInfo) spreadCounts {
	if len(cs) == 0 {
		return nil
	}
	out := make(spreadCounts, len(cs))
	for i := range out {
		out[i] = map[string]int{}
	}
	for _, ni := range infos {
		if !hasKeys(ni.Node, cs) {
			continue
		}
		for i := range cs {
			c := &cs[i]
			if !c.counts(pi, ni.Node) {
				continue
			}
			v, _ := topologyValue(ni.Node, c.key)
			k := out[i][v]
			for _, q := range ni.Pods {
				if q.Namespace == pi.pod.Namespace && q.DeletionTimestamp == nil && c.selector.Matches(labels.Set(q.Labels)) {
					k++
				}
			}
			out[i][v] = k
		}
	}
	return out
}

func hasKeys(n *corev1.Node, cs []spreadConstraint) bool {
	for i := range cs {
		if _, ok := topologyValue(n, cs[i].key); !ok {
			return false
		}
	}
	return true
}

// counts reports whether the constraint counts node n's pods: under the
// Honor policies n must match the pod's node selector and required node
// affinity, and have its taints tolerated.
func (c *spreadConstraint) counts(pi *podInfo, n *corev1.Node) bool {
	if c.honorAffinity && (!matchesSelector(pi.pod.Spec.NodeSelector, n.Labels) || pi.required != nil && !matchesTerms(pi.required.NodeSelectorTerms, n)) {
		return false
	}
	return !c.honorTaints || untolerated(pi.pod.Spec.Tolerations, n.Spec.Taints) < 0
}

// filterSpread: placing the pod on n must keep each DoNotSchedule
// constraint's skew (n's domain count with the pod, minus the smallest
// domain count; 0 while fewer than minDomains domains exist) within
// maxSkew.
func filterSpread(pi *podInfo, counts spreadCounts, n *corev1.Node, reasons []string) []string {
	if !hasKeys(n, pi.hardSpread) {
		return append(reasons, ReasonSpreadLabel)
	}
	for i := range pi.hardSpread {
		c := &pi.hardSpread[i]
		v, _ := topologyValue(n, c.key)
		self := 0
		if c.selector.Matches(labels.Set(pi.pod.Labels)) {
			self = 1
		}
		if int64(counts[i][v]+self-minCount(counts[i], c.minDomains)) > c.maxSkew {
			return append(reasons, ReasonSpread)
		}
	}
	return reasons
}

func minCount(m map[string]int, minDomains int) int {
	if len(m) < minDomains {
		return 0
	}
	low := math.MaxInt
	for _, k := range m {
		low = min(low, k)
	}
	if low == math.MaxInt {
		return 0
	}
	return low
}

// spreadScore is the node's raw ScheduleAnyway score, lower is better:
// per constraint its domain's count weighted by log(domains+2), plus
// maxSkew-1 (kube-scheduler's scoreForCount). ok is false for a node
// without every key (scored 0 after normalizing).
func spreadScore(pi *podInfo, counts spreadCounts, n *corev1.Node) (float64, bool) {
	if !hasKeys(n, pi.spread) {
		return 0, false
	}
	var s float64
	for i := range pi.spread {
		c := &pi.spread[i]
		v, _ := topologyValue(n, c.key)
		s += float64(counts[i][v])*math.Log(float64(len(counts[i])+2)) + float64(c.maxSkew-1)
	}
	return s, true
}
