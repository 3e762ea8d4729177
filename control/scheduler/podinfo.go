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
	var out []affinityTerm
	for _, t := range p.Spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution {
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
		out = append(out, affinityTerm{selector: sel, namespaces: ns, topologyKey: t.TopologyKey})
	}
	return out
}

// matches reports whether pod q falls under the term.
func (t *affinityTerm) matches(q *corev1.Pod) bool {
	return t.namespaces[q.Namespace] && t.selector.Matches(labels.Set(q.Labels))
}
