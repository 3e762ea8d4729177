package scheduler

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// podInfo is what the filters and scores need from the pod being
// scheduled, computed once per decision.
type podInfo struct {
	pod       *corev1.Pod
	req       Resources
	nonZero   Resources
	ports     []hostPort
	required  *corev1.NodeSelector
	preferred []corev1.PreferredSchedulingTerm
	anti      []affinityTerm
	// Pod affinity (interpod.go) and topology spread (spread.go).
	affinity           []affinityTerm // required
	prefAff, prefAnti  []weightedTerm
	hardSpread, spread []spreadConstraint // DoNotSchedule, ScheduleAnyway
}

// weightedTerm is a compiled preferred pod (anti-)affinity term.
type weightedTerm struct {
	affinityTerm
	weight int64
}

// affinityTerm is a compiled required pod (anti-)affinity term.
type affinityTerm struct {
	selector    labels.Selector
	namespaces  map[string]bool // empty: the owning pod's namespace
	topologyKey string
}

func newPodInfo(p *corev1.Pod) *podInfo {
	pi := &podInfo{pod: p, ports: podHostPorts(p)}
	pi.req, pi.nonZero = podRequests(p)
	if a := p.Spec.Affinity; a != nil && a.NodeAffinity != nil {
		pi.required = a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution
		pi.preferred = a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution
	}
	pi.anti = antiTerms(p)
	pi.affinity = affinityTerms(p)
	pi.prefAff, pi.prefAnti = preferredTerms(p)
	pi.hardSpread, pi.spread = spreadConstraints(p)
	return pi
}

func hasRequiredAntiAffinity(p *corev1.Pod) bool {
	a := p.Spec.Affinity
	return a != nil && a.PodAntiAffinity != nil && len(a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution) > 0
}

// antiTerms compiles p's required anti-affinity terms; terms whose
// selector does not parse match nothing, as kube-scheduler treats them.
func antiTerms(p *corev1.Pod) []affinityTerm {
	if !hasRequiredAntiAffinity(p) {
		return nil
	}
	return compileTerms(p, p.Spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution)
}

func compileTerms(p *corev1.Pod, terms []corev1.PodAffinityTerm) []affinityTerm {
	out := make([]affinityTerm, 0, len(terms))
	for i := range terms {
		out = append(out, compileTerm(p, &terms[i]))
	}
	return out
}

func compileTerm(p *corev1.Pod, t *corev1.PodAffinityTerm) affinityTerm {
	sel, err := metav1.LabelSelectorAsSelector(t.LabelSelector)
	if err != nil || t.LabelSelector == nil {
		sel = labels.Nothing()
	}
	ns := map[string]bool{}
	for _, n := range t.Namespaces {
		ns[n] = true
	}
	if len(ns) == 0 {
		ns[p.Namespace] = true
	}
	return affinityTerm{selector: sel, namespaces: ns, topologyKey: t.TopologyKey}
}

// affinityTerms compiles p's required pod affinity terms.
func affinityTerms(p *corev1.Pod) []affinityTerm {
	a := p.Spec.Affinity
	if a == nil || a.PodAffinity == nil {
		return nil
	}
	return compileTerms(p, a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution)
}

// preferredTerms compiles p's preferred pod affinity and anti-affinity.
func preferredTerms(p *corev1.Pod) (aff, anti []weightedTerm) {
	a := p.Spec.Affinity
	if a == nil {
		return nil, nil
	}
	compile := func(ts []corev1.WeightedPodAffinityTerm) []weightedTerm {
		var out []weightedTerm
		for i := range ts {
			if ts[i].Weight != 0 {
				out = append(out, weightedTerm{compileTerm(p, &ts[i].PodAffinityTerm), int64(ts[i].Weight)})
			}
		}
		return out
	}
	if a.PodAffinity != nil {
		aff = compile(a.PodAffinity.PreferredDuringSchedulingIgnoredDuringExecution)
	}
	if a.PodAntiAffinity != nil {
		anti = compile(a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution)
	}
	return aff, anti
}

// hasPodAffinity reports whether p has terms that concern other pods'
// placement through scoring or its own affinity: required affinity, or
// preferred affinity or anti-affinity.
func hasPodAffinity(p *corev1.Pod) bool {
	a := p.Spec.Affinity
	if a == nil {
		return false
	}
	return a.PodAffinity != nil && (len(a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution) > 0 ||
		len(a.PodAffinity.PreferredDuringSchedulingIgnoredDuringExecution) > 0) ||
		a.PodAntiAffinity != nil && len(a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution) > 0
}

// matches reports whether pod q falls under the term.
func (t *affinityTerm) matches(q *corev1.Pod) bool {
	return t.namespaces[q.Namespace] && t.selector.Matches(labels.Set(q.Labels))
}
