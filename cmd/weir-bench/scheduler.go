package main

import (
	"context"
	"flag"
	"os"

	schedbench "github.com/weirnet/weir/tests/bench/scheduler"
)

// runScheduler is `weir-bench scheduler`: see package tests/bench/scheduler.
func runScheduler(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("weir-bench scheduler", flag.ContinueOnError)
	var cfg schedbench.Config
	fs.IntVar(&cfg.Nodes, "nodes", 5000, "nodes held in memory")
	fs.IntVar(&cfg.Pods, "pods", 10000, "pods to schedule")
	fs.StringVar(&cfg.Out, "out", "docs/benchmarks.md", "markdown file to update (section scheduler)")
	fs.StringVar(&cfg.JSONDir, "json-dir", "docs/bench", "directory for scheduler.json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg.Command, cfg.Log = commandLine("scheduler", args), os.Stdout
	_, err := schedbench.Run(ctx, cfg)
	return err
}
