package scheduler

import (
	corev1 "k8s.io/api/core/v1"
)

// domains holds the topology domains (node label values) that required
// pod anti-affinity closes to the pod being scheduled: its own terms
// (forbidden) and existing pods' terms that select it (existing).
type domains struct {
	forbidden map[string]map[string]bool // topologyKey -> values
	existing  map[string]map[string]bool
}

// topologyValue is n's value for key; nodes without a hostname label are
// their own hostname domain.
func topologyValue(n *corev1.Node, key string) (string, bool) {
	v, ok := n.Labels[key]
	if !ok && key == corev1.LabelHostname {
		return n.Name, true
	}
	return v, ok
}

// newDomains computes the closed domains, or nil when neither the pod nor
// any placed pod has required anti-affinity.
func newDomains(pi *podInfo, infos []*NodeInfo) *domains {
	anyExisting := false
	for _, ni := range infos {
		if ni.antiPods > 0 {
			anyExisting = true
			break
		}
	}
	if len(pi.anti) == 0 && !anyExisting {
		return nil
	}
	d := &domains{forbidden: map[string]map[string]bool{}, existing: map[string]map[string]bool{}}
	for _, ni := range infos {
		d.addNode(pi, ni)
	}
	return d
}

func (d *domains) addNode(pi *podInfo, ni *NodeInfo) {
	for _, q := range ni.Pods {
		for i := range pi.anti {
			if t := &pi.anti[i]; t.matches(q) {
				mark(d.forbidden, ni.Node, t.topologyKey)
			}
		}
		if ni.antiPods == 0 || !hasRequiredAntiAffinity(q) {
			continue
		}
		for _, t := range antiTerms(q) {
			if t.matches(pi.pod) {
				mark(d.existing, ni.Node, t.topologyKey)
			}
		}
	}
}

func mark(m map[string]map[string]bool, n *corev1.Node, key string) {
	v, ok := topologyValue(n, key)
	if !ok {
		return
	}
	if m[key] == nil {
		m[key] = map[string]bool{}
	}
	m[key][v] = true
}

func closed(m map[string]map[string]bool, n *corev1.Node) bool {
	for key, values := range m {
		if v, ok := topologyValue(n, key); ok && values[v] {
			return true
		}
	}
	return false
}

func (d *domains) filter(n *corev1.Node, reasons []string) []string {
	if closed(d.forbidden, n) {
		reasons = append(reasons, ReasonAntiAffinity)
	}
	if closed(d.existing, n) {
		reasons = append(reasons, ReasonExistingAnti)
	}
	return reasons
}
