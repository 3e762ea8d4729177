package scheduler

import (
	"fmt"
	"math"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Decision is where a pod goes.
type Decision struct {
	Node      string
	Score     int64
	Evaluated int // nodes filtered
	Feasible  int // nodes that fit
}

// FitError says why no node fits: how many nodes failed for each reason.
type FitError struct {
	NumNodes int
	Reasons  map[string]int
}

// Error is kube-scheduler's message: "0/3 nodes are available: 2
// Insufficient cpu, 1 node(s) had untolerated taint {k: v}." with reasons
// by count, most frequent first.
func (e *FitError) Error() string {
	type rc struct {
		reason string
		n      int
	}
	var list []rc
	for r, n := range e.Reasons {
		list = append(list, rc{r, n})
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].n != list[j].n {
			return list[i].n > list[j].n
		}
		return list[i].reason < list[j].reason
	})
	parts := make([]string, len(list))
	for i, r := range list {
		parts[i] = fmt.Sprintf("%d %s", r.n, r.reason)
	}
	msg := fmt.Sprintf("0/%d nodes are available", e.NumNodes)
	if len(parts) > 0 {
		msg += ": " + strings.Join(parts, ", ")
	}
	return msg + "."
}

// Options tune ScheduleOn.
type Options struct {
	// MaxFeasible stops filtering once this many nodes fit (0: all nodes),
	// like kube-scheduler's percentageOfNodesToScore.
	MaxFeasible int
	// Start is the index of the first node filtered (rotated by callers so
	// that sampling spreads over the cluster).
	Start int
}

// NumFeasibleToFind is kube-scheduler's adaptive sample size for n nodes:
// all of them below 100, else (50 - n/125)% of them (at least 5%, at least
// 100 nodes).
func NumFeasibleToFind(n int) int {
	if n < 100 {
		return n
	}
	pct := max(50-n/125, 5)
	return max(n*pct/100, 100)
}

// Schedule picks a node for pod among nodes, given the pods already placed
// (pods without a node or in a terminal phase are ignored). It is a pure
// function: the same inputs give the same decision. On failure the
// FitError lists why each node was rejected.
func Schedule(pod *corev1.Pod, nodes []*corev1.Node, pods []*corev1.Pod) (Decision, *FitError) {
	return ScheduleOn(pod, BuildNodeInfos(nodes, pods), Options{})
}

// BuildNodeInfos accounts pods to their nodes, ordered by node name.
func BuildNodeInfos(nodes []*corev1.Node, pods []*corev1.Pod) []*NodeInfo {
	infos := make([]*NodeInfo, 0, len(nodes))
	byName := make(map[string]*NodeInfo, len(nodes))
	for _, n := range nodes {
		ni := NewNodeInfo(n)
		infos = append(infos, ni)
		byName[n.Name] = ni
	}
	sort.Slice(infos, func(i, j int) bool { return infos[i].Node.Name < infos[j].Node.Name })
	for _, p := range pods {
		if ni := byName[p.Spec.NodeName]; ni != nil && !Terminal(p) {
			ni.AddPod(p)
		}
	}
	return infos
}

// Terminal reports whether p has finished and no longer holds resources.
func Terminal(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

// scored is one feasible node's raw scores.
type scored struct {
	ni                       *NodeInfo
	base, affinity, interPod int64
	spread                   float64
	spreadOK                 bool
}

// Weights of the scores that look at other pods, kube-scheduler's
// defaults for InterPodAffinity and PodTopologySpread.
const (
	interPodWeight = 2
	spreadWeight   = 2
)

// ScheduleOn is Schedule over prepared NodeInfos (the scheduler's cache).
func ScheduleOn(pod *corev1.Pod, infos []*NodeInfo, opts Options) (Decision, *FitError) {
	var buf []scored
	return scheduleOn(pod, infos, opts, &buf)
}

// scheduleOn is ScheduleOn with a scratch buffer reused across decisions.
func scheduleOn(pod *corev1.Pod, infos []*NodeInfo, opts Options, buf *[]scored) (Decision, *FitError) {
	pi := newPodInfo(pod)
	d := newDecision(pi, infos)
	fe := &FitError{NumNodes: len(infos), Reasons: map[string]int{}}
	feasible := (*buf)[:0]
	defer func() { *buf = feasible[:0] }()
	var reasons []string
	var maxAff int64
	n := len(infos)
	evaluated := 0
	for i := 0; i < n; i++ {
		ni := infos[(opts.Start+i)%n]
		evaluated++
		reasons = filter(pi, ni, d, reasons[:0])
		if len(reasons) > 0 {
			for _, r := range reasons {
				fe.Reasons[r]++
			}
			continue
		}
		s := scored{ni: ni, base: leastAllocated(pi, ni) + balanced(pi, ni)}
		if len(pi.preferred) > 0 {
			s.affinity = preferredAffinity(pi, ni)
			maxAff = max(maxAff, s.affinity)
		}
		if d.ip != nil {
			s.interPod = d.ip.score(ni.Node)
		}
		if len(pi.spread) > 0 {
			s.spread, s.spreadOK = spreadScore(pi, d.soft, ni.Node)
		}
		feasible = append(feasible, s)
		if opts.MaxFeasible > 0 && len(feasible) >= opts.MaxFeasible {
			break
		}
	}
	if len(feasible) == 0 {
		return Decision{Evaluated: evaluated}, fe
	}
	ipMin, ipMax := int64(math.MaxInt64), int64(math.MinInt64)
	spMin, spMax := math.Inf(1), 0.0
	for _, s := range feasible {
		ipMin, ipMax = min(ipMin, s.interPod), max(ipMax, s.interPod)
		if s.spreadOK {
			spMin, spMax = min(spMin, s.spread), max(spMax, s.spread)
		}
	}
	best, bestScore := 0, int64(-1)
	for i, s := range feasible {
		total := s.base
		if maxAff > 0 {
			total += s.affinity * MaxScore / maxAff
		}
		// Min-max normalized, as kube-scheduler's InterPodAffinity.
		if d.ip != nil && ipMax > ipMin {
			total += interPodWeight * MaxScore * (s.interPod - ipMin) / (ipMax - ipMin)
		}
		// Fewer matching pods score higher; nodes without the keys 0
		// (kube-scheduler's PodTopologySpread normalization).
		if len(pi.spread) > 0 && s.spreadOK {
			sc := float64(MaxScore)
			if spMax > 0 {
				sc = MaxScore * (spMax + spMin - s.spread) / spMax
			}
			total += int64(spreadWeight * sc)
		}
		if total > bestScore {
			best, bestScore = i, total
		}
	}
	return Decision{Node: feasible[best].ni.Node.Name, Score: bestScore, Evaluated: evaluated, Feasible: len(feasible)}, nil
}
