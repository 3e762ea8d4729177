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
	what := fmt.Sprintf("%d bare pods of the test server (no probes)", r.Pods)
	if len(r.Groups) == 2 {
		what = fmt.Sprintf("%d pods of the test server (no probes), every other one bare (%d) or with volumes (%d: a configMap, a secret, an emptyDir and a projected volume of a service account token, the root CA ConfigMap and the namespace)",
			r.Pods, r.Groups[0].Pods, r.Groups[1].Pods)
	}
	fmt.Fprintf(&b, "%s, %d cores, weir %s. A local cluster (one `weir server`, %d `weir agent --run-pods` in their own netns and cgroups, a private containerd, the test image already imported); %s created through the API at %s; 1-minute load average %.1f before and %.1f after (2 cores: more than 2 means other work competed). Times on the host clock: the client's from before the POST to the first watch event showing the stage, containerd's event timestamps for the container and its task.\n\n",
		r.Date, r.Cores, r.Weir, r.Nodes, what, rate, r.LoadAvg, r.LoadAvgAfter)
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
	if len(r.Groups) == 2 {
		groupTable(&b, r.Groups[0], r.Groups[1])
	}
	verdict := "missed"
	if r.GoalMet {
		verdict = "met"
	}
	fmt.Fprintf(&b, "\nGoal p50 <= 1 s, p99 <= 2 s: **%s** (p50 %.0f ms, p99 %.0f ms). Pods per node: %s.\n", verdict, r.Ready.P50Ms, r.Ready.P99Ms, perNode(r.PerNode))
	return b.String()
}

// groupTable compares the bare pods (a) with the pods with volumes (v).
func groupTable(b *strings.Builder, a, v Group) {
	fmt.Fprintf(b, "\nThe same run split: %d bare pods against %d pods with volumes.\n\n", a.Pods, v.Pods)
	b.WriteString("| | bare p50 | bare p99 | volumes p50 | volumes p99 | volumes / bare, p50 | volumes / bare, p99 |\n|---|---|---|---|---|---|---|\n")
	row := func(name string, x, y Dist) {
		fmt.Fprintf(b, "| %s | %.0f ms | %.0f ms | %.0f ms | %.0f ms | %s | %s |\n", name, x.P50Ms, x.P99Ms, y.P50Ms, y.P99Ms, ratio(y.P50Ms, x.P50Ms), ratio(y.P99Ms, x.P99Ms))
	}
	row("**create -> Running and Ready with an IP**", a.Ready, v.Ready)
	for i := range a.Stages {
		if i < len(v.Stages) {
			row(a.Stages[i].Name, a.Stages[i].Dist, v.Stages[i].Dist)
		}
	}
	d50, d99 := v.Ready.P50Ms-a.Ready.P50Ms, v.Ready.P99Ms-a.Ready.P99Ms
	fmt.Fprintf(b, "\nVolumes add %+.0f ms at p50 and %+.0f ms at p99 to create -> Ready", d50, d99)
	if k := largestGap(a.Stages, v.Stages); k >= 0 {
		fmt.Fprintf(b, "; the stage that grows most at p50 is %s (%+.0f ms)", v.Stages[k].Name, v.Stages[k].P50Ms-a.Stages[k].P50Ms)
	}
	b.WriteString(".\n")
}

func ratio(x, y float64) string {
	if y <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", x/y)
}

// largestGap is the index of the splitting stage whose p50 grows most from
// a to v, -1 if none.
func largestGap(a, v []Stage) int {
	k := -1
	for i := range a {
		if i >= len(v) || strings.HasPrefix(a[i].Name, "(") {
			continue
		}
		if k < 0 || v[i].P50Ms-a[i].P50Ms > v[k].P50Ms-a[k].P50Ms {
			k = i
		}
	}
	return k
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
