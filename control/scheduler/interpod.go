package scheduler

import (
	corev1 "k8s.io/api/core/v1"
)

// ReasonAffinity is kube-scheduler's reason for a node outside every
// domain the pod's required pod affinity asks for.
const ReasonAffinity = "node(s) didn't match pod affinity rules"

// interPod is the pod affinity state of one decision, over every placed
// pod: the domains holding pods that match all of the pod's required
// affinity terms, and the preferred-term weights per domain.
type interPod struct {
	// counts: topologyKey -> value -> pods matching every required term.
	counts map[string]map[string]int
	// selfOK: no placed pod matches the terms but the pod matches its own
	// (the first of a group with affinity to itself may go anywhere).
	selfOK bool
	// weights: topologyKey -> value -> summed preferred weights (both
	// ways: the pod's terms over placed pods, placed pods' over the pod).
	weights map[string]map[string]int64
}

// hardPodAffinityWeight is what a placed pod's required affinity term
// that matches the pod adds to its domain's score (kube-scheduler's
// default).
const hardPodAffinityWeight = 1

// newInterPod computes the state, or nil when neither the pod nor any
// placed pod has pod affinity or preferred anti-affinity.
func newInterPod(pi *podInfo, infos []*NodeInfo) *interPod {
	mine := len(pi.affinity) > 0 || len(pi.prefAff) > 0 || len(pi.prefAnti) > 0
	theirs := false
	for _, ni := range infos {
		if ni.affPods > 0 {
			theirs = true
			break
		}
	}
	if !mine && !theirs {
		return nil
	}
	ip := &interPod{counts: map[string]map[string]int{}, weights: map[string]map[string]int64{}}
	for _, ni := range infos {
		if !mine && ni.affPods == 0 {
			continue
		}
		for _, q := range ni.Pods {
			ip.addPod(pi, ni.Node, q, mine)
		}
	}
	ip.selfOK = len(ip.counts) == 0 && len(pi.affinity) > 0 && matchesAll(pi.affinity, pi.pod)
	return ip
}

func (ip *interPod) addPod(pi *podInfo, n *corev1.Node, q *corev1.Pod, mine bool) {
	if mine {
		if len(pi.affinity) > 0 && matchesAll(pi.affinity, q) {
			for i := range pi.affinity {
				addCount(ip.counts, n, pi.affinity[i].topologyKey)
			}
		}
		for i := range pi.prefAff {
			if t := &pi.prefAff[i]; t.matches(q) {
				addWeight(ip.weights, n, t.topologyKey, t.weight)
			}
		}
		for i := range pi.prefAnti {
			if t := &pi.prefAnti[i]; t.matches(q) {
				addWeight(ip.weights, n, t.topologyKey, -t.weight)
			}
		}
	}
	if !hasPodAffinity(q) {
		return
	}
	// The placed pod's own terms, where they select the pod.
	for _, t := range affinityTerms(q) {
		if t.matches(pi.pod) {
			addWeight(ip.weights, n, t.topologyKey, hardPodAffinityWeight)
		}
	}
	aff, anti := preferredTerms(q)
	for i := range aff {
		if aff[i].matches(pi.pod) {
			addWeight(ip.weights, n, aff[i].topologyKey, aff[i].weight)
		}
	}
	for i := range anti {
		if anti[i].matches(pi.pod) {
			addWeight(ip.weights, n, anti[i].topologyKey, -anti[i].weight)
		}
	}
}

func matchesAll(terms []affinityTerm, q *corev1.Pod) bool {
	for i := range terms {
		if !terms[i].matches(q) {
			return false
		}
	}
	return true
}

func addCount(m map[string]map[string]int, n *corev1.Node, key string) {
	if v, ok := topologyValue(n, key); ok {
		if m[key] == nil {
			m[key] = map[string]int{}
		}
		m[key][v]++
	}
}

func addWeight(m map[string]map[string]int64, n *corev1.Node, key string, w int64) {
	if v, ok := topologyValue(n, key); ok {
		if m[key] == nil {
			m[key] = map[string]int64{}
		}
		m[key][v] += w
	}
}

// filter: the node must carry every required term's topology key and
// hold, in each such domain, a pod that matches all the terms (or be
// open to the first pod of a self-affine group).
func (ip *interPod) filter(pi *podInfo, n *corev1.Node, reasons []string) []string {
	if len(pi.affinity) == 0 {
		return reasons
	}
	exist := true
	for i := range pi.affinity {
		key := pi.affinity[i].topologyKey
		v, ok := topologyValue(n, key)
		if !ok {
			return append(reasons, ReasonAffinity)
		}
		if ip.counts[key][v] <= 0 {
			exist = false
		}
	}
	if !exist && !ip.selfOK {
		return append(reasons, ReasonAffinity)
	}
	return reasons
}

// score is the node's raw preferred-affinity score (normalized over the
// feasible nodes by the caller).
func (ip *interPod) score(n *corev1.Node) int64 {
	var s int64
	for key, values := range ip.weights {
		if v, ok := topologyValue(n, key); ok {
			s += values[v]
		}
	}
	return s
}
