package status

import (
	"fmt"
	"sort"
	"strings"
)

// maxProblemPods bounds the pods listed by name.
const maxProblemPods = 10

type line struct {
	section string
	mark    Mark
	text    string
}

func (r *Report) lines() []line {
	var out []line
	out = append(out, r.memberLines()...)
	out = append(out, r.nodeLines()...)
	out = append(out, r.podLines()...)
	out = append(out, line{"SERVICES", OK, fmt.Sprintf("%d services", r.Services)})
	out = append(out, line{"DNS", r.DNS.Mark, r.DNS.Text})
	return out
}

func (r *Report) memberLines() []line {
	s := "CONTROL MEMBERS (API " + r.Server + ")"
	leader, voters := "", 0
	for _, m := range r.Members {
		if m.Leader {
			leader = m.Name
		}
		if m.Voter {
			voters++
		}
	}
	var out []line
	if leader == "" {
		out = append(out, line{s, Problem, fmt.Sprintf("no leader among %d members (%d voters): writes fail until one is elected", len(r.Members), voters)})
	} else {
		mark := OK
		if voters%2 == 0 {
			mark = Problem // an even voter count tolerates no more failures than one less
		}
		out = append(out, line{s, mark, fmt.Sprintf("leader %s, %d voters of %d members", leader, voters, len(r.Members))})
	}
	for _, m := range r.Members {
		role := "follower"
		if m.Leader {
			role = "leader"
		}
		if !m.Voter {
			role = "non-voter"
		}
		api := m.APIAddr
		if api == "" {
			api = "<none>"
		}
		out = append(out, line{s, m.Health.Mark, fmt.Sprintf("%-12s %-22s %-9s %s", m.Name, api, role, m.Health.Text)})
	}
	return out
}

func (r *Report) nodeLines() []line {
	const s = "NODES"
	ready := 0
	var out []line
	for _, n := range r.Nodes {
		mark, state := OK, "Ready"
		if n.Ready {
			ready++
		} else {
			mark, state = Problem, n.Reason
		}
		cidr := n.PodCIDR
		if cidr == "" {
			cidr, mark = "<no pod CIDR>", Problem
		}
		out = append(out, line{s, mark, fmt.Sprintf("%-16s %-20s %-16s %d pods", n.Name, state, cidr, n.Pods)})
	}
	mark := OK
	if len(r.Nodes) == 0 || ready < len(r.Nodes) {
		mark = Problem
	}
	return append([]line{{s, mark, fmt.Sprintf("%d of %d nodes Ready", ready, len(r.Nodes))}}, out...)
}

func (r *Report) podLines() []line {
	const s = "PODS"
	var phases []string
	for p, n := range r.Pods.Phases {
		phases = append(phases, fmt.Sprintf("%d %s", n, p))
	}
	sort.Strings(phases)
	mark := OK
	if len(r.Pods.Problems) > 0 {
		mark = Problem
	}
	if r.Pods.Terminating > 0 {
		phases = append(phases, fmt.Sprintf("%d terminating", r.Pods.Terminating))
	}
	text := fmt.Sprintf("%d pods, %d ready", r.Pods.Total, r.Pods.Ready)
	if len(phases) > 0 {
		text += " (" + strings.Join(phases, ", ") + ")"
	}
	out := []line{{s, mark, text}}
	for i, p := range r.Pods.Problems {
		if i == maxProblemPods {
			out = append(out, line{s, Problem, fmt.Sprintf("... and %d more", len(r.Pods.Problems)-i)})
			break
		}
		out = append(out, line{s, Problem, p})
	}
	return out
}
