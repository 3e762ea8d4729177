package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	apibench "github.com/weirnet/weir/tests/bench/api"
)

// runAPI: `weir-bench api` measures list, get and watch fan-out for
// JSON and protobuf clients against a baseline build, and write
// throughput with and without a 2,000-watcher fan-out, kubelet-shaped
// over HTTP/2 and over HTTP/1.1 (see tests/bench/api).
func runAPI(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("weir-bench api", flag.ContinueOnError)
	var cfg apibench.Config
	fs.IntVar(&cfg.Objects, "objects", 10000, "Pods loaded into each server")
	fs.IntVar(&cfg.Lists, "lists", 20, "full lists per client")
	fs.IntVar(&cfg.Gets, "gets", 2000, "gets per client")
	fs.IntVar(&cfg.Watchers, "watchers", 100, "concurrent watchers in the fan-out")
	fs.IntVar(&cfg.Updates, "updates", 100, "writes fanned out to the watchers")
	fs.IntVar(&cfg.FanOutWatchers, "write-watchers", 2000, "watchers in the write-throughput section (0: skip it)")
	fs.IntVar(&cfg.FanOutWrites, "write-count", 2000, "writes in the write-throughput section, per run")
	fs.IntVar(&cfg.FanOutNodes, "write-nodes", 100, "HTTP/2 connections (nodes) the kubelet-shaped watchers share in the write-throughput section (0: no kubelet-shaped rows)")
	fs.StringVar(&cfg.ProfileDir, "write-profile", "", "directory for a server CPU profile of each write-throughput row with watchers (empty: none)")
	fs.IntVar(&cfg.ProfileSeconds, "write-profile-seconds", 20, "seconds each --write-profile profile covers, from the row's first write")
	writers := fs.String("write-clients", "16,64", "concurrent writers in the write-throughput section (comma-separated: one run each)")
	shapes := fs.String("write-shapes", strings.Join(apibench.WriteShapes, ","), "watcher shapes in the write-throughput section, after the no-watcher row (comma-separated, of: "+strings.Join(apibench.WriteShapes, ", ")+")")
	fs.BoolVar(&cfg.OnlyWrites, "only-writes", false, "run only the write-throughput section, against this build")
	fs.StringVar(&cfg.BaselineBin, "baseline-bin", "", "a built baseline weir (default: build --baseline-rev from this checkout)")
	fs.StringVar(&cfg.BaselineRev, "baseline-rev", apibench.DefaultBaselineRev, "git revision of the baseline")
	fs.StringVar(&cfg.Dir, "dir", "", "parent directory of the temporary data dirs (default $TMPDIR)")
	fs.BoolVar(&cfg.Keep, "keep", false, "keep the data dirs and server logs")
	fs.StringVar(&cfg.Out, "out", "docs/benchmarks.md", "markdown file whose api section is replaced (empty: none)")
	fs.StringVar(&cfg.JSONDir, "json-dir", "docs/bench", "directory for api.json (empty: none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, w := range strings.Split(*writers, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(w))
		if err != nil || n < 1 {
			return fmt.Errorf("--write-clients %q: want positive numbers, comma-separated", *writers)
		}
		cfg.FanOutWriters = append(cfg.FanOutWriters, n)
	}
	for _, sh := range strings.Split(*shapes, ",") {
		if sh = strings.TrimSpace(sh); sh == "" {
			continue
		}
		if !slices.Contains(apibench.WriteShapes, sh) {
			return fmt.Errorf("--write-shapes: unknown shape %q (want some of: %s)", sh, strings.Join(apibench.WriteShapes, ", "))
		}
		cfg.FanOutShapes = append(cfg.FanOutShapes, sh)
	}
	if cfg.ProfileDir != "" && (cfg.ProfileSeconds < 1 || cfg.ProfileSeconds > 55) {
		return fmt.Errorf("--write-profile-seconds %d: want 1 to 55 (the server cuts longer profiles)", cfg.ProfileSeconds)
	}
	if cfg.FanOutNodes < 0 {
		return fmt.Errorf("--write-nodes %d: want 0 or more", cfg.FanOutNodes)
	}
	w, err := findWeir()
	if err != nil {
		return err
	}
	if cfg.Repo, err = os.Getwd(); err != nil {
		return err
	}
	cfg.WeirBin, cfg.Version, cfg.Log = w.bin, w.version, os.Stderr
	cfg.Command = commandLine("api", args)
	_, err = apibench.Run(ctx, cfg)
	return err
}
