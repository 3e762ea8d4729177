package scheduler

import (
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
)

// Reasons a node does not fit, worded as kube-scheduler words them.
const (
	ReasonUnschedulable    = "node(s) were unschedulable"
	ReasonNodeName         = "node(s) didn't match the requested node name"
	ReasonNodeAffinity     = "node(s) didn't match Pod's node affinity/selector"
	ReasonHostPorts        = "node(s) didn't have free ports for the requested pod ports"
	ReasonAntiAffinity     = "node(s) didn't match pod anti-affinity rules"
	ReasonExistingAnti     = "node(s) didn't satisfy existing pods anti-affinity rules"
	ReasonTooManyPods      = "Too many pods"
	ReasonInsufficientCPU  = "Insufficient cpu"
	ReasonInsufficientMem  = "Insufficient memory"
	ReasonInsufficientDisk = "Insufficient ephemeral-storage"
)

// decision is the per-decision state of the filters and scores that look
// at other pods: required anti-affinity domains, pod affinity, topology
// spread counts. Each part is nil when it has nothing to say.
type decision struct {
	dom              *domains
	ip               *interPod
	hardSpread, soft spreadCounts
}

func newDecision(pi *podInfo, infos []*NodeInfo) *decision {
	return &decision{dom: newDomains(pi, infos), ip: newInterPod(pi, infos),
		hardSpread: countSpread(pi, pi.hardSpread, infos), soft: countSpread(pi, pi.spread, infos)}
}

// filter appends to reasons why ni cannot take the pod; none means it fits.
func filter(pi *podInfo, ni *NodeInfo, d *decision, reasons []string) []string {
	n, p := ni.Node, pi.pod
	if n.Spec.Unschedulable && !tolerates(p.Spec.Tolerations, &corev1.Taint{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule}) {
		return append(reasons, ReasonUnschedulable)
	}
	if p.Spec.NodeName != "" && p.Spec.NodeName != n.Name {
		return append(reasons, ReasonNodeName)
	}
	if !matchesSelector(p.Spec.NodeSelector, n.Labels) || (pi.required != nil && !matchesTerms(pi.required.NodeSelectorTerms, n)) {
		return append(reasons, ReasonNodeAffinity)
	}
	if i := untolerated(p.Spec.Tolerations, n.Spec.Taints); i >= 0 {
		return append(reasons, ni.taintReason(i))
	}
	start := len(reasons)
	reasons = fitResources(pi, ni, reasons)
	if len(pi.ports) > 0 && portsConflict(pi.ports, ni.ports) {
		reasons = append(reasons, ReasonHostPorts)
	}
	if len(reasons) > start {
		return reasons
	}
	if d.dom != nil {
		reasons = d.dom.filter(n, reasons)
	}
	if d.ip != nil {
		reasons = d.ip.filter(pi, n, reasons)
	}
	if len(pi.hardSpread) > 0 {
		reasons = filterSpread(pi, d.hardSpread, n, reasons)
	}
	return reasons
}

func fitResources(pi *podInfo, ni *NodeInfo, reasons []string) []string {
	a, r, q := &ni.Allocatable, &ni.Requested, &pi.req
	if r.Pods+1 > a.Pods {
		reasons = append(reasons, ReasonTooManyPods)
	}
	if q.MilliCPU > 0 && r.MilliCPU+q.MilliCPU > a.MilliCPU {
		reasons = append(reasons, ReasonInsufficientCPU)
	}
	if q.Memory > 0 && r.Memory+q.Memory > a.Memory {
		reasons = append(reasons, ReasonInsufficientMem)
	}
	if q.Storage > 0 && a.Storage >= 0 && r.Storage+q.Storage > a.Storage {
		reasons = append(reasons, ReasonInsufficientDisk)
	}
	return reasons
}

func matchesSelector(sel, lbls map[string]string) bool {
	for k, v := range sel {
		if lv, ok := lbls[k]; !ok || lv != v {
			return false
		}
	}
	return true
}

// untolerated returns the index of the first NoSchedule/NoExecute taint
// the tolerations do not tolerate, or -1.
func untolerated(tols []corev1.Toleration, taints []corev1.Taint) int {
	for i := range taints {
		t := &taints[i]
		if t.Effect == corev1.TaintEffectPreferNoSchedule {
			continue
		}
		if !tolerates(tols, t) {
			return i
		}
	}
	return -1
}

// taintReason is the reason for the node's i-th taint, formatted once.
func (ni *NodeInfo) taintReason(i int) string {
	if ni.taintReasons == nil {
		ni.taintReasons = make([]string, len(ni.Node.Spec.Taints))
	}
	if ni.taintReasons[i] == "" {
		t := ni.Node.Spec.Taints[i]
		ni.taintReasons[i] = fmt.Sprintf("node(s) had untolerated taint {%s: %s}", t.Key, t.Value)
	}
	return ni.taintReasons[i]
}

// tolerates reports whether any toleration tolerates the taint.
func tolerates(tols []corev1.Toleration, t *corev1.Taint) bool {
	for i := range tols {
		if Tolerates(&tols[i], t) {
			return true
		}
	}
	return false
}

// Tolerates reports whether tol tolerates taint t: same effect (or any),
// and Exists on the key (or on every key when the key is empty) or Equal
// on key and value.
func Tolerates(tol *corev1.Toleration, t *corev1.Taint) bool {
	if tol.Effect != "" && tol.Effect != t.Effect {
		return false
	}
	if tol.Key != "" && tol.Key != t.Key {
		return false
	}
	switch tol.Operator {
	case corev1.TolerationOpExists:
		return true
	case "", corev1.TolerationOpEqual:
		return tol.Key != "" && tol.Value == t.Value
	}
	return false
}

func portsConflict(want []hostPort, held map[hostPort]int) bool {
	for _, w := range want {
		for h := range held {
			if h.port == w.port && h.protocol == w.protocol &&
				(h.ip == w.ip || h.ip == "0.0.0.0" || w.ip == "0.0.0.0") {
				return true
			}
		}
	}
	return false
}

// matchesTerms reports whether n matches any of the terms (an empty term
// matches nothing, as in Kubernetes).
func matchesTerms(terms []corev1.NodeSelectorTerm, n *corev1.Node) bool {
	for i := range terms {
		if matchesTerm(&terms[i], n) {
			return true
		}
	}
	return false
}

func matchesTerm(t *corev1.NodeSelectorTerm, n *corev1.Node) bool {
	if len(t.MatchExpressions) == 0 && len(t.MatchFields) == 0 {
		return false
	}
	for _, r := range t.MatchExpressions {
		v, ok := n.Labels[r.Key]
		if !matchesRequirement(r, v, ok) {
			return false
		}
	}
	for _, r := range t.MatchFields {
		if r.Key != "metadata.name" || !matchesRequirement(r, n.Name, true) {
			return false
		}
	}
	return true
}

func matchesRequirement(r corev1.NodeSelectorRequirement, v string, ok bool) bool {
	switch r.Operator {
	case corev1.NodeSelectorOpIn:
		return ok && contains(r.Values, v)
	case corev1.NodeSelectorOpNotIn:
		return !ok || !contains(r.Values, v)
	case corev1.NodeSelectorOpExists:
		return ok
	case corev1.NodeSelectorOpDoesNotExist:
		return !ok
	case corev1.NodeSelectorOpGt, corev1.NodeSelectorOpLt:
		if !ok || len(r.Values) != 1 {
			return false
		}
		have, err1 := strconv.ParseInt(v, 10, 64)
		want, err2 := strconv.ParseInt(r.Values[0], 10, 64)
		if err1 != nil || err2 != nil {
			return false
		}
		if r.Operator == corev1.NodeSelectorOpGt {
			return have > want
		}
		return have < want
	}
	return false
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}
