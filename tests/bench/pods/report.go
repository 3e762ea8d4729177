package pods

import (
	"fmt"
	"sort"
	"strings"

	"github.com/weirnet/weir/tests/benchreport"
)

func report(cfg Config, r Result) error {
	if cfg.JSONDir != "" {
		if err := benchreport.WriteJSON(cfg.JSONDir, "pods", r); err != nil {
			return fmt.Errorf("write pods.json: %w", err)
		}
	}
	if cfg.Out == "" {
		return nil
	}
	return benchreport.UpdateSection(cfg.Out, "pods", markdown(r))
}

func markdown(r Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Pod startup (`%s`)\n\n", r.Command)
	rate := fmt.Sprintf("%.0f pods/s", r.Rate)
	if r.Rate < 0 {
		rate = "all at once"
	}
	fmt.Fprintf(&b, "%s, %d cores, weir %s. A local cluster (one `weir server`, %d `weir agent --run-pods` in their own netns and cgroups, a private containerd, the test image already imported); %d bare pods of the test server (no probes) created through the API at %s; 1-minute load average %.1f before and %.1f after (2 cores: more than 2 means other work competed). Times on the host clock: the client's from before the POST to the first watch event showing the stage, containerd's event timestamps for the container and its task.\n\n",
		r.Date, r.Cores, r.Weir, r.Nodes, r.Pods, rate, r.LoadAvg, r.LoadAvgAfter)
	b.WriteString("| | p50 | p99 | max |\n|---|---|---|---|\n")
	row := func(name string, d Dist) {
		fmt.Fprintf(&b, "| %s | %.0f ms | %.0f ms | %.0f ms |\n", name, d.P50Ms, d.P99Ms, d.MaxMs)
	}
	row("**create -> Running and Ready with an IP**", r.Ready)
	for _, s := range r.Stages {
		row(s.Name, s.Dist)
	}
	if k := slowest(r.Stages); k >= 0 {
		fmt.Fprintf(&b, "\nThe slowest stage at p50: %s, %.0f ms of %.0f ms.\n", r.Stages[k].Name, r.Stages[k].P50Ms, r.Ready.P50Ms)
	}
	verdict := "missed"
	if r.GoalMet {
		verdict = "met"
	}
	fmt.Fprintf(&b, "\nGoal p50 <= 1 s, p99 <= 2 s: **%s** (p50 %.0f ms, p99 %.0f ms). Pods per node: %s.\n", verdict, r.Ready.P50Ms, r.Ready.P99Ms, perNode(r.PerNode))
	return b.String()
}

// slowest is the index of the stage with the largest p50 among the ones
// that split the total (the parenthesised cross-check excluded), -1 if none.
func slowest(stages []Stage) int {
	k := -1
	for i, s := range stages {
		if !strings.HasPrefix(s.Name, "(") && (k < 0 || s.P50Ms > stages[k].P50Ms) {
			k = i
		}
	}
	return k
}

func perNode(m map[string]int) string {
	var out []string
	for n, k := range m {
		out = append(out, fmt.Sprintf("%s %d", n, k))
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}
