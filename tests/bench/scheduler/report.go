package scheduler

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/weirnet/weir/control/scheduler"
)

// Report is what `weir-bench scheduler` writes.
type Report struct {
	Command string   `json:"command"`
	CPUs    int      `json:"cpus"`
	Goal    float64  `json:"goalPodsPerSecond"`
	Runs    []Result `json:"runs"`
}

// NewReport wraps runs with the command that produced them.
func NewReport(command string, runs []Result) Report {
	return Report{Command: command, CPUs: runtime.NumCPU(), Goal: 1000, Runs: runs}
}

// Markdown renders the report as the scheduler section of
// docs/benchmarks.md.
func (r Report) Markdown() string {
	var b strings.Builder
	b.WriteString("## Scheduler\n\n")
	fmt.Fprintf(&b, "Command: `%s` (%d CPUs). The pure filter+score core with the in-memory node cache, no API; "+
		"each pod is filtered and scored against the nodes, then assumed on the chosen one. "+
		"Goal: >= %.0f pods/s (kube-scheduler's CI floor for this workload is 680).\n\n", r.Command, r.CPUs, r.Goal)
	b.WriteString("| nodes | pods | nodes evaluated per pod | seconds | pods/s | max pods on a node |\n|---|---|---|---|---|---|\n")
	for _, run := range r.Runs {
		mode := "all"
		if run.Sample {
			mode = fmt.Sprintf("adaptive sample (%d)", scheduler.NumFeasibleToFind(run.Nodes))
		}
		fmt.Fprintf(&b, "| %d | %d | %s | %.2f | %.0f | %d |\n", run.Nodes, run.Pods, mode, run.Seconds, run.PodsPerSecond, run.MaxPerNode)
	}
	return b.String()
}
