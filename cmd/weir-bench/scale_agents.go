package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	scalebench "github.com/weirnet/weir/tests/bench/scale"
)

// runScaleAgents: `weir-bench scale-agents` measures what each connected
// agent costs one control member at 1,000 and 5,000 agents (see
// tests/bench/scale/doc.go), on its own: `weir-bench scale` runs the same
// after the Services and puts both in its section.
func runScaleAgents(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("weir-bench scale-agents", flag.ContinueOnError)
	var cfg scalebench.AgentsConfig
	agents := fs.String("agents", "1000,5000", "agent counts, comma-separated: one fresh member per count")
	fs.DurationVar(&cfg.Settle, "settle", 0, "wait after the agents synced, before the idle window (default 15s)")
	fs.DurationVar(&cfg.Idle, "idle", 0, "idle window for CPU and store writes (default 30s)")
	fs.IntVar(&cfg.Changes, "changes", 50, "EndpointSlice changes timed per count")
	fs.StringVar(&cfg.Dir, "dir", "", "parent directory of the member's data dir (default $TMPDIR)")
	fs.StringVar(&cfg.Out, "out", "", "markdown file whose scale-agents section is replaced (empty: none; weir-bench scale writes these rows into its own section)")
	fs.StringVar(&cfg.JSONDir, "json-dir", "docs/bench", "directory for scale-agents.json (empty: none)")
	fs.StringVar(&cfg.Profiles, "profiles", "", "directory for the member's CPU profile of each idle window and heap and goroutine profiles after it (empty: none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, s := range strings.Split(*agents, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("-agents %q: want numbers like 1000,5000", *agents)
		}
		cfg.Agents = append(cfg.Agents, n)
	}
	w, err := findWeir()
	if err != nil {
		return err
	}
	cfg.WeirBin, cfg.WeirVersion, cfg.Log, cfg.Report = w.bin, w.version, os.Stderr, os.Stdout
	cfg.Command = commandLine("scale-agents", args)
	_, err = scalebench.RunAgents(ctx, cfg)
	return err
}
