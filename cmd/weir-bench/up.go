package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	upbench "github.com/weirnet/weir/tests/bench/up"
)

// runUp: `weir-bench up` times `weir up --nodes N --control C` to a
// passing self-check and reads each component's idle memory (see
// tests/bench/up). Needs root, like `weir up`.
func runUp(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("weir-bench up", flag.ContinueOnError)
	var cfg upbench.Config
	controls := fs.String("control", "1,3", "control member counts to measure (comma-separated)")
	fs.IntVar(&cfg.Nodes, "nodes", 3, "nodes of each cluster")
	fs.DurationVar(&cfg.Idle, "idle", 0, "idle time before reading memory (default 10s)")
	fs.StringVar(&cfg.Dir, "dir", "", "parent directory of the clusters' data dirs (default $TMPDIR)")
	fs.StringVar(&cfg.Out, "out", "docs/benchmarks.md", "markdown file whose up section is replaced (empty: none)")
	fs.StringVar(&cfg.JSONDir, "json-dir", "docs/bench", "directory for up.json (empty: none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, f := range strings.Split(*controls, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return fmt.Errorf("--control %q: %w (want e.g. 1,3)", *controls, err)
		}
		cfg.Controls = append(cfg.Controls, n)
	}
	w, err := findWeir()
	if err != nil {
		return err
	}
	cfg.WeirBin, cfg.WeirVersion, cfg.Log = w.bin, w.version, os.Stderr
	cfg.Command = commandLine("up", args)
	_, err = upbench.Run(ctx, cfg)
	return err
}
