package up

import (
	"fmt"
	"strings"

	"github.com/weirnet/weir/tests/benchreport"
)

// Goals of issue 7.
const (
	goalUpSeconds = 15
	goalMemberMiB = 100
	goalAgentMiB  = 60
)

// Proc is one component's idle footprint.
type Proc struct {
	Name           string  `json:"name"`
	Component      string  `json:"component"` // member, agent, containerd, api-proxy
	RSSMiB         float64 `json:"rssMiB"`
	AnonMiB        float64 `json:"rssAnonMiB"`
	FileMiB        float64 `json:"rssFileMiB"`
	IdleCPUPercent float64 `json:"idleCpuPercent"`
}

// Run1 is one `weir up` measured.
type Run1 struct {
	Control   int     `json:"control"`
	UpSeconds float64 `json:"upSeconds"` // process start to passing self-check
	Procs     []Proc  `json:"procs"`
}

// Results are every run of a `weir-bench up`.
type Results struct {
	Version     string  `json:"version"`
	Command     string  `json:"command"`
	Date        string  `json:"date"`
	Machine     string  `json:"machine"`
	Nodes       int     `json:"nodes"`
	IdleSeconds float64 `json:"idleSeconds"`
	Runs        []Run1  `json:"runs"`
}

func (r *Results) write(cfg Config) error {
	if cfg.JSONDir != "" {
		if err := benchreport.WriteJSON(cfg.JSONDir, "up", r); err != nil {
			return err
		}
	}
	fmt.Fprint(cfg.Log, r.Markdown())
	if cfg.Out != "" {
		return benchreport.UpdateSection(cfg.Out, "up", r.Markdown())
	}
	return nil
}

// max of a component's RSS in a run.
func (r Run1) max(component string) (rss, anon float64) {
	for _, p := range r.Procs {
		if p.Component == component && p.RSSMiB > rss {
			rss, anon = p.RSSMiB, p.AnonMiB
		}
	}
	return rss, anon
}

func verdict(ok bool) string {
	if ok {
		return "meets"
	}
	return "misses"
}

// Markdown is the docs/benchmarks.md section.
func (r *Results) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "## `weir up` to a ready cluster (`weir-bench up`)\n\n")
	fmt.Fprintf(&b, "`%s` on %s, weir %s, %s. Each run: `weir up --nodes %d --control C` in its own data dir, prefix and API port, "+
		"timed from process start to the passing self-check (the demo answering by ClusterIP from every node and by DNS name from its pods, "+
		"after the test image import), then %.0f s idle, then each process's memory from /proc/PID/status "+
		"(RSS = RssAnon, the Go heap and stacks, + RssFile, the mapped binary and bbolt files, shared between processes of the same binary) "+
		"and its CPU over the idle window; then `weir down`.\n\n", r.Command, r.Machine, r.Version, r.Date, r.Nodes, r.IdleSeconds)
	b.WriteString("| control members | up to self-check | goal <= 15 s | max member RSS (anon) | goal <= 100 MiB | max agent RSS (anon) | goal <= 60 MiB |\n|---|---|---|---|---|---|---|\n")
	for _, run := range r.Runs {
		m, ma := run.max("member")
		a, aa := run.max("agent")
		fmt.Fprintf(&b, "| %d | %.2f s | %s | %.1f MiB (%.1f) | %s | %.1f MiB (%.1f) | %s |\n", run.Control, run.UpSeconds,
			verdict(run.UpSeconds <= goalUpSeconds), m, ma, verdict(m <= goalMemberMiB), a, aa, verdict(a <= goalAgentMiB))
	}
	for _, run := range r.Runs {
		fmt.Fprintf(&b, "\nIdle processes with --control %d:\n\n| process | component | RSS MiB | RssAnon MiB | RssFile MiB | idle CPU %% |\n|---|---|---|---|---|---|\n", run.Control)
		for _, p := range run.Procs {
			fmt.Fprintf(&b, "| %s | %s | %.1f | %.1f | %.1f | %.1f |\n", p.Name, p.Component, p.RSSMiB, p.AnonMiB, p.FileMiB, p.IdleCPUPercent)
		}
	}
	b.WriteString("\nContainer processes (the demo's weir-testserver and their shims) are not counted. Raw figures: docs/bench/up.json.\n")
	return b.String()
}
