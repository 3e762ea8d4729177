package main

import (
	"context"
	"flag"
	"os"

	pushbench "github.com/weirnet/weir/tests/bench/push"
)

// runPush: `weir-bench push` measures how fast a change reaches N
// agents over the node stream of a 3-member control plane (see
// tests/bench/push).
func runPush(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("weir-bench push", flag.ContinueOnError)
	var cfg pushbench.Config
	fs.IntVar(&cfg.Agents, "agents", 100, "connected agents (in-process node-stream clients)")
	fs.IntVar(&cfg.Singles, "singles", 200, "single changes measured")
	fs.IntVar(&cfg.Bursts, "bursts", 3, "bursts measured")
	fs.IntVar(&cfg.BurstSize, "burst-size", 1000, "changes per burst")
	fs.IntVar(&cfg.Writers, "writers", 16, "concurrent API writers in a burst")
	fs.DurationVar(&cfg.Heartbeat, "heartbeat", 0, "agents' heartbeat interval (default 2s)")
	fs.DurationVar(&cfg.Idle, "idle", 0, "idle window measuring heartbeat-only CPU (default 5s)")
	fs.StringVar(&cfg.Dir, "dir", "", "parent directory of the members' data dirs (default $TMPDIR)")
	fs.StringVar(&cfg.Out, "out", "docs/benchmarks.md", "markdown file whose push section is replaced (empty: none)")
	fs.StringVar(&cfg.JSONDir, "json-dir", "docs/bench", "directory for push.json (empty: none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	w, err := findWeir()
	if err != nil {
		return err
	}
	cfg.WeirBin, cfg.WeirVersion, cfg.Log = w.bin, w.version, os.Stderr
	cfg.Command = commandLine("push", args)
	_, err = pushbench.Run(ctx, cfg)
	return err
}
