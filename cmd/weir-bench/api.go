package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	apibench "github.com/weirnet/weir/tests/bench/api"
)

// runAPI: `weir-bench api` measures list, get and watch fan-out for
// JSON and protobuf clients against a baseline build, and write
// throughput with and without a 2,000-watcher fan-out (see
// tests/bench/api).
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
	writers := fs.String("write-clients", "16,64", "concurrent writers in the write-throughput section (comma-separated: one run each)")
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
