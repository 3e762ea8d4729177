package scale

import (
	"fmt"
	"strings"

	"github.com/weirnet/weir/tests/benchreport"
)

// Result is what a run measured (docs/bench/scale.json).
type Result struct {
	Command        string      `json:"command"`
	Date           string      `json:"date"`
	Weir           string      `json:"weir"`
	Machine        string      `json:"machine"`
	Cores          int         `json:"cores"`
	EndpointsEvery int         `json:"endpointsEvery"`
	Endpoints      int         `json:"endpoints"`
	Workers        int         `json:"workers"`
	IdleSeconds    float64     `json:"idleSeconds"`
	Bare           []Apply     `json:"bare"`
	InProcess      []InProcess `json:"inProcess"`
	Runs           []Run1      `json:"runs"`
}

// Run1 is one cluster at one size.
type Run1 struct {
	Nodes      int                `json:"nodes"`
	Services   int                `json:"services"`
	Apply      Apply              `json:"apply"`
	BarePerSec float64            `json:"bareObjectsPerSecond"`
	ApplyRatio float64            `json:"applyRatio"`
	ApplyCPU   map[string]float64 `json:"applyCpuPercent"` // per component, % of a core, while applying
	// ConvergeSeconds: the last write answered -> every node's maps serve
	// the last Service with endpoints.
	ConvergeSeconds  float64    `json:"convergeSeconds"`
	Procs            []ProcIdle `json:"procs"`
	AgentIdleCPUPct  float64    `json:"agentIdleCpuPercent"` // the busiest agent
	AgentRSSMiB      float64    `json:"agentRssMiB"`
	MemberIdleCPUPct float64    `json:"memberIdleCpuPercent"`
	MemberRSSMiB     float64    `json:"memberRssMiB"`
	IdleFullSyncs    float64    `json:"idleFullSyncs"` // Syncs/Resyncs the agents ran in the idle window
	Map              Latency    `json:"map"`
	DNS              Latency    `json:"dns"`
	// Per agent and change: CPU (utime+stime), the same less the agents'
	// idle CPU over the phase, the dataplane time the agent's own metric
	// records, and Services upserted.
	AgentCPUPerChangeMs       float64 `json:"agentCpuPerChangeMs"`
	AgentCPUPerChangeNetMs    float64 `json:"agentCpuPerChangeNetMs"`
	AgentDataplaneMsPerChange float64 `json:"agentDataplaneMsPerChange"`
	AgentUpsertsPerChange     float64 `json:"agentUpsertsPerChange"`
}

// ProcIdle is one process over the idle window.
type ProcIdle struct {
	Name      string  `json:"name"`
	Component string  `json:"component"`
	CPUPct    float64 `json:"cpuPercent"`
	RSSMiB    float64 `json:"rssMiB"`
}

// Latency: write -> the change visible on every node (on the first, and
// the write alone).
type Latency struct {
	Changes    int     `json:"changes"`
	Timeouts   int     `json:"timeouts"`
	P50Ms      float64 `json:"p50Ms"`
	P99Ms      float64 `json:"p99Ms"`
	MaxMs      float64 `json:"maxMs"`
	FirstP50Ms float64 `json:"firstNodeP50Ms"`
	FirstP99Ms float64 `json:"firstNodeP99Ms"`
	WriteP50Ms float64 `json:"writeP50Ms"`
	WriteP99Ms float64 `json:"writeP99Ms"`
}

// Goals of issue 15.
const (
	goalIdleCPUPct = 1.0  // agent, at 100k Services
	goalMapP99Ms   = 50.0 // 10k Services, 3 nodes
	goalApplyRatio = 0.9
	goalAgentRSS   = 150.0 // MiB at 100k Services
)

func (r *Result) write(cfg Config) error {
	if cfg.JSONDir != "" {
		if err := benchreport.WriteJSON(cfg.JSONDir, "scale", r); err != nil {
			return err
		}
	}
	md := r.Markdown()
	fmt.Fprint(cfg.Log, md)
	if cfg.Out != "" {
		return benchreport.UpdateSection(cfg.Out, "scale", md)
	}
	return nil
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

// Markdown is the docs/benchmarks.md section.
func (r *Result) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Services at scale (`weir-bench scale`)\n\n")
	fmt.Fprintf(&b, "`%s` on %s, weir %s, %s. A `weir up` cluster (1 control member) per node count; "+
		"N selector-less ClusterIP Services, one in %d with an EndpointSlice of %d endpoints, created by %d concurrent client-go writers "+
		"against the member's API (dialed in the underlay netns), sizes applied in turn into the same cluster; "+
		"the same objects go to a bare `weir server` on loopback first. Idle: %.0f s after every node's maps hold the last Service. "+
		"Map latency: an EndpointSlice update until every node's pinned lb_services serves the new backend (polled every 0.5 ms); "+
		"DNS latency: a headless Service's EndpointSlice update until every node's DNS server answers with the new address.\n\n",
		r.Command, r.Machine, r.Weir, r.Date, r.EndpointsEvery, r.Endpoints, r.Workers, r.IdleSeconds)
	b.WriteString(r.goals())
	b.WriteString("\n| nodes | Services | apply objects/s (bare) | ratio | maps converge | idle agent CPU | agent RSS | idle member CPU | member RSS | map p50 / p99 | DNS p50 / p99 | agent CPU per change (net) | agent dataplane per change |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, x := range r.Runs {
		fmt.Fprintf(&b, "| %d | %d | %.0f (%.0f) | %.2f | %.1f s | %.2f%% | %.0f MiB | %.2f%% | %.0f MiB | %.1f / %.1f ms%s | %.1f / %.1f ms%s | %.2f ms (%.2f) | %.2f ms |\n",
			x.Nodes, x.Services, x.Apply.PerSec, x.BarePerSec, x.ApplyRatio, x.ConvergeSeconds, x.AgentIdleCPUPct, x.AgentRSSMiB,
			x.MemberIdleCPUPct, x.MemberRSSMiB, x.Map.P50Ms, x.Map.P99Ms, timeouts(x.Map), x.DNS.P50Ms, x.DNS.P99Ms, timeouts(x.DNS),
			x.AgentCPUPerChangeMs, x.AgentCPUPerChangeNetMs, x.AgentDataplaneMsPerChange)
	}
	b.WriteString("\nGrowth per 1k Services added since the previous size (idle; the busiest agent, the member):\n\n| nodes | Services | agent CPU %/1k | agent RSS MiB/1k | member CPU %/1k | member RSS MiB/1k | agent full syncs while idle |\n|---|---|---|---|---|---|---|\n")
	for i := range r.Runs {
		x := &r.Runs[i]
		p := r.previous(x)
		if p == nil {
			fmt.Fprintf(&b, "| %d | %d | - | - | - | - | %.0f |\n", x.Nodes, x.Services, x.IdleFullSyncs)
			continue
		}
		k := float64(x.Services-p.Services) / 1000
		fmt.Fprintf(&b, "| %d | %d | %.4f | %.2f | %.4f | %.2f | %.0f |\n", x.Nodes, x.Services, (x.AgentIdleCPUPct-p.AgentIdleCPUPct)/k,
			(x.AgentRSSMiB-p.AgentRSSMiB)/k, (x.MemberIdleCPUPct-p.MemberIdleCPUPct)/k, (x.MemberRSSMiB-p.MemberRSSMiB)/k, x.IdleFullSyncs)
	}
	b.WriteString("\n`Manager.Upsert` in process (a dataplane of the benchmark's own with Maglev tables, loaded with the same Services), one changed Service per call:\n\n| Services | Sync to this size | Upsert mean | p99 | CPU per Upsert | dataplane heap |\n|---|---|---|---|---|---|\n")
	for _, x := range r.InProcess {
		fmt.Fprintf(&b, "| %d | %.2f s | %.0f µs | %.0f µs | %.0f µs | %.1f MiB |\n", x.Services, x.SyncSeconds, x.UpsertMeanUs, x.UpsertP99Us, x.UpsertCPUMeanUs, x.HeapMiB)
	}
	b.WriteString("\nLatencies above are write -> the last node. Their parts, p50 / p99:\n\n| nodes | Services | map: API write | map: first node | DNS: API write | DNS: first node |\n|---|---|---|---|---|---|\n")
	for _, x := range r.Runs {
		fmt.Fprintf(&b, "| %d | %d | %.1f / %.1f ms | %.1f / %.1f ms | %.1f / %.1f ms | %.1f / %.1f ms |\n", x.Nodes, x.Services,
			x.Map.WriteP50Ms, x.Map.WriteP99Ms, x.Map.FirstP50Ms, x.Map.FirstP99Ms, x.DNS.WriteP50Ms, x.DNS.WriteP99Ms, x.DNS.FirstP50Ms, x.DNS.FirstP99Ms)
	}
	b.WriteString("\nAgent CPU per change is utime+stime of the agents over the changes divided by changes x agents; (net) subtracts their idle CPU over the same time; " +
		"the dataplane time is the agents' weir_dataplane_sync_duration_seconds over the same changes. The agent's lb maps hold 65,536 frontends " +
		"(the dataplane's default MaxServices; `weir agent` has no flag for it), so 100k Services cannot be measured; the 100k goals are judged at the largest size, " +
		"carried to 100k along its growth from the previous size. " +
		"Raw figures: docs/bench/scale.json.\n")
	return b.String()
}

func timeouts(l Latency) string {
	if l.Timeouts == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d of %d timed out)", l.Timeouts, l.Changes)
}

// goals is the goal table: each goal against the run it is judged on.
func (r *Result) goals() string {
	var b strings.Builder
	b.WriteString("| goal | measured | verdict |\n|---|---|---|\n")
	if x := r.largest(0); x != nil {
		p := r.previous(x)
		cpu100, cpuHow := extrapolate(x, p, func(y *Run1) float64 { return y.AgentIdleCPUPct })
		rss100, rssHow := extrapolate(x, p, func(y *Run1) float64 { return y.AgentRSSMiB })
		fmt.Fprintf(&b, "| idle agent CPU <= %.0f%% of a core at 100k Services | %.2f%% at %d; %s | %s |\n",
			goalIdleCPUPct, x.AgentIdleCPUPct, x.Services, how(cpuHow, cpu100, "%.2f%%"), judged(cpuHow, cpu100 <= goalIdleCPUPct))
		fmt.Fprintf(&b, "| agent RSS <= %.0f MiB at 100k Services | %.0f MiB at %d; %s | %s |\n",
			goalAgentRSS, x.AgentRSSMiB, x.Services, how(rssHow, rss100, "%.0f MiB"), judged(rssHow, rss100 <= goalAgentRSS))
	}
	if x := r.at(3, 10000); x != nil {
		fmt.Fprintf(&b, "| one endpoint change in every node's map, p99 <= %.0f ms at 10k Services, 3 nodes | %.1f ms (p50 %.1f) | %s |\n",
			goalMapP99Ms, x.Map.P99Ms, x.Map.P50Ms, verdict(x.Map.P99Ms <= goalMapP99Ms && x.Map.Timeouts == 0))
	} else {
		b.WriteString("| one endpoint change in every node's map, p99 <= 50 ms at 10k Services, 3 nodes | not in this run | - |\n")
	}
	worst := (*Run1)(nil)
	for i := range r.Runs {
		if worst == nil || r.Runs[i].ApplyRatio < worst.ApplyRatio {
			worst = &r.Runs[i]
		}
	}
	if worst != nil {
		fmt.Fprintf(&b, "| apply with the cluster running >= %.1fx the bare server's | lowest %.2fx (%d nodes, Services %d..%d) | %s |\n",
			goalApplyRatio, worst.ApplyRatio, worst.Nodes, worst.Apply.From, worst.Apply.To, verdict(worst.ApplyRatio >= goalApplyRatio))
	}
	b.WriteString(r.why(worst))
	return b.String()
}

// why explains missed goals with what the run measured.
func (r *Result) why(worst *Run1) string {
	var b strings.Builder
	if worst != nil && worst.ApplyRatio < goalApplyRatio {
		fmt.Fprintf(&b, "\nApply ratio: while the cluster took Services %d..%d, its processes used (%% of a core) %s on %d cores shared with the writers; the bare server ran alone.\n",
			worst.Apply.From, worst.Apply.To, shares(worst.ApplyCPU), r.Cores)
	}
	if x := r.at(3, 10000); x != nil && (x.Map.P99Ms > goalMapP99Ms || x.Map.Timeouts > 0) {
		fmt.Fprintf(&b, "\nMap latency at 10k/3 nodes (p50 / p99): the API write itself took %.1f / %.1f ms (raft commit and bbolt fsync before the answer), the first node had the change at %.1f / %.1f ms, the last at %.1f / %.1f ms; "+
			"the agents' dataplane time per change was %.2f ms and their CPU per change %.2f ms: what is left is the node stream and scheduling on a shared machine.\n",
			x.Map.WriteP50Ms, x.Map.WriteP99Ms, x.Map.FirstP50Ms, x.Map.FirstP99Ms, x.Map.P50Ms, x.Map.P99Ms, x.AgentDataplaneMsPerChange, x.AgentCPUPerChangeMs)
	}
	if x := r.largest(0); x != nil {
		if rss100, h := extrapolate(x, r.previous(x), func(y *Run1) float64 { return y.AgentRSSMiB }); h != "" && rss100 > goalAgentRSS {
			heap := 0.0
			for _, ip := range r.InProcess {
				if ip.Services == x.Services {
					heap = ip.HeapMiB
				}
			}
			fmt.Fprintf(&b, "\nAgent RSS at %d: %.0f MiB, of which the dataplane's own state is %.1f MiB (Go heap after GC, measured in process at the same size); "+
				"the rest is the agent's copy of every Service and EndpointSlice from the node stream, the DNS index and the Go runtime.\n", x.Services, x.AgentRSSMiB, heap)
		}
		if cpu100, h := extrapolate(x, r.previous(x), func(y *Run1) float64 { return y.AgentIdleCPUPct }); h == "" || cpu100 <= goalIdleCPUPct {
			return b.String()
		}
		fmt.Fprintf(&b, "\nIdle agent CPU at %d: the agents ran %.0f full Syncs/Resyncs in the %.0f s window (the safety-net Resync, every 5 min, re-reads and diffs every map); the busiest agent's idle CPU was %.2f%%.\n",
			x.Services, x.IdleFullSyncs, r.IdleSeconds, x.AgentIdleCPUPct)
	}
	return b.String()
}

func shares(m map[string]float64) string {
	var parts []string
	for _, c := range []string{"member", "agent", "api-proxy", "containerd"} {
		if v, ok := m[c]; ok {
			parts = append(parts, fmt.Sprintf("%s %.0f%%", c, v))
		}
	}
	return strings.Join(parts, ", ")
}

// extrapolate carries v to 100k Services along its growth from the
// previous size p to x (never a decrease); "" when there is no previous
// size to take the growth from.
func extrapolate(x, p *Run1, v func(*Run1) float64) (float64, string) {
	if x.Services >= 100000 {
		return v(x), "measured"
	}
	if p == nil {
		return 0, ""
	}
	slope := max(0, (v(x)-v(p))/float64(x.Services-p.Services))
	return v(x) + slope*float64(100000-x.Services), fmt.Sprintf("at 100k along the growth from %d", p.Services)
}

func how(h string, v float64, format string) string {
	if h == "" {
		return "one size: no growth to carry to 100k"
	}
	return h + ": " + fmt.Sprintf(format, v)
}

func judged(h string, ok bool) string {
	if h == "" {
		return "not judged"
	}
	return verdict(ok)
}

// previous is the run before x in the same cluster (the next smaller size).
func (r *Result) previous(x *Run1) *Run1 {
	var p *Run1
	for i := range r.Runs {
		y := &r.Runs[i]
		if y.Nodes == x.Nodes && y.Services < x.Services && (p == nil || y.Services > p.Services) {
			p = y
		}
	}
	return p
}

// largest is the run with the most Services (most nodes among them); nodes 0: any.
func (r *Result) largest(nodes int) *Run1 {
	var best *Run1
	for i := range r.Runs {
		x := &r.Runs[i]
		if nodes != 0 && x.Nodes != nodes {
			continue
		}
		if best == nil || x.Services > best.Services || (x.Services == best.Services && x.Nodes > best.Nodes) {
			best = x
		}
	}
	return best
}

func (r *Result) at(nodes, services int) *Run1 {
	for i := range r.Runs {
		if r.Runs[i].Nodes == nodes && r.Runs[i].Services == services {
			return &r.Runs[i]
		}
	}
	return nil
}
