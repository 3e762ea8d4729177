package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/weirnet/weir/control/scheduler"
	"github.com/weirnet/weir/tests/benchreport"
)

// runBenchScheduler is `weir bench scheduler`: see scheduler.Bench.
func runBenchScheduler(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("weir bench scheduler", flag.ContinueOnError)
	nodes := fs.Int("nodes", 5000, "nodes held in memory")
	pods := fs.Int("pods", 10000, "pods to schedule")
	out := fs.String("out", "docs/benchmarks.md", "markdown file to update (section scheduler)")
	jsonDir := fs.String("json-dir", "docs/bench", "directory for scheduler.json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var runs []scheduler.BenchResult
	for _, sample := range []bool{false, true} {
		if err := ctx.Err(); err != nil {
			return err
		}
		r, err := scheduler.Bench(*nodes, *pods, sample)
		if err != nil {
			return fmt.Errorf("scheduler benchmark: %w", err)
		}
		fmt.Printf("nodes=%d pods=%d sample=%v: %.0f pods/s (%.2fs)\n", r.Nodes, r.Pods, r.Sample, r.PodsPerSecond, r.Seconds)
		runs = append(runs, r)
	}
	rep := scheduler.NewBenchReport(strings.TrimSpace("weir bench scheduler "+strings.Join(args, " ")), runs)
	if err := benchreport.UpdateSection(*out, "scheduler", rep.Markdown()); err != nil {
		return err
	}
	return benchreport.WriteJSON(*jsonDir, "scheduler", rep)
}
