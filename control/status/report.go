package status

import (
	"fmt"
	"io"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/weirnet/weir/control/client"
)

// Mark is a line's verdict.
type Mark string

// The markers Print writes in front of each line.
const (
	OK      Mark = "ok"
	Problem Mark = "!!"
	Unknown Mark = "??"
)

// Health is a verdict with what it is based on.
type Health struct {
	Mark Mark
	Text string
}

// Member is a control member with its probed readiness.
type Member struct {
	client.Member
	Health Health
}

// Node is one node's line.
type Node struct {
	Name, PodCIDR string
	Ready         bool
	Reason        string // the Ready condition's status and reason when not Ready
	Pods          int
}

// Pods summarizes every pod: counts by phase, ready ones, and the pods
// that are neither finished nor running and ready.
type Pods struct {
	Total, Ready int
	Terminating  int
	Phases       map[corev1.PodPhase]int
	Problems     []string // "ns/name: why"
}

// Report is the cluster's state at a glance.
type Report struct {
	Server   string
	Members  []Member
	Nodes    []Node
	Pods     Pods
	Services int
	DNS      Health
}

func nodeRows(nodes []corev1.Node, pods []corev1.Pod) []Node {
	perNode := map[string]int{}
	for _, p := range pods {
		if p.Spec.NodeName != "" && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			perNode[p.Spec.NodeName]++
		}
	}
	var out []Node
	for _, n := range nodes {
		row := Node{Name: n.Name, PodCIDR: n.Spec.PodCIDR, Pods: perNode[n.Name], Reason: "no Ready condition"}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady {
				row.Ready = c.Status == corev1.ConditionTrue
				row.Reason = strings.TrimSpace(fmt.Sprintf("Ready=%s %s", c.Status, c.Reason))
			}
		}
		out = append(out, row)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func podSummary(pods []corev1.Pod) Pods {
	s := Pods{Total: len(pods), Phases: map[corev1.PodPhase]int{}}
	for _, p := range pods {
		s.Phases[p.Status.Phase]++
		ready := false
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				ready = true
			}
		}
		if ready && p.DeletionTimestamp == nil {
			s.Ready++
		}
		if p.DeletionTimestamp != nil {
			s.Terminating++
		}
		finished := p.Status.Phase == corev1.PodSucceeded
		if !finished && !(ready && p.Status.Phase == corev1.PodRunning) {
			why := string(p.Status.Phase)
			if p.DeletionTimestamp != nil {
				why = "Terminating"
			} else if ready {
				why += ", ready"
			} else {
				why += ", not ready"
			}
			s.Problems = append(s.Problems, p.Namespace+"/"+p.Name+": "+why)
		}
	}
	sort.Strings(s.Problems)
	return s
}

// Problems counts the lines marked as problems.
func (r *Report) Problems() int {
	n := 0
	for _, l := range r.lines() {
		if l.mark == Problem {
			n++
		}
	}
	return n
}

// Print writes the report, one marked line per item.
func (r *Report) Print(w io.Writer) error {
	section := ""
	for _, l := range r.lines() {
		if l.section != section {
			section = l.section
			if _, err := fmt.Fprintf(w, "%s\n", section); err != nil {
				return err
			}
		}
		if _, err := fmt.Fprintf(w, "  %-2s  %s\n", l.mark, l.text); err != nil {
			return err
		}
	}
	return nil
}
