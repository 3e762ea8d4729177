package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	storebench "github.com/weirnet/weir/tests/bench/store"
)

// runStore: `weir-bench store` compares a 3-member weir control plane
// with a 3-member etcd 3.4 cluster (see tests/bench/store).
func runStore(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("weir-bench store", flag.ContinueOnError)
	var cfg storebench.Config
	var clients string
	fs.DurationVar(&cfg.Duration, "duration", 5e9, "measured time per system and cell")
	fs.DurationVar(&cfg.Warmup, "warmup", 1e9, "unmeasured lead-in per system and cell")
	fs.StringVar(&clients, "clients", "1,16,256", "comma-separated concurrency levels")
	fs.IntVar(&cfg.Objects, "objects", 100000, "objects loaded into each system before measuring RSS (0 skips)")
	fs.IntVar(&cfg.LoadClients, "load-clients", 64, "concurrent clients of the load phase")
	fs.BoolVar(&cfg.Leader, "leader", false, "send weir writes to the leader instead of spreading them over the members")
	fs.BoolVar(&cfg.Keep, "keep", false, "keep the data dirs and member logs after the run (the path is printed)")
	fs.StringVar(&cfg.EtcdBin, "etcd", "etcd", "etcd 3.4 server binary (Debian etcd-server)")
	fs.StringVar(&cfg.Dir, "dir", "", "parent directory of the temporary data dirs (default $TMPDIR; use a real disk)")
	fs.StringVar(&cfg.Out, "out", "docs/benchmarks.md", "markdown file whose store section is replaced (empty: none)")
	fs.StringVar(&cfg.JSONDir, "json-dir", "docs/bench", "directory for store.json (empty: none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, f := range strings.Split(clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return fmt.Errorf("--clients: %q is not a positive number", f)
		}
		cfg.Clients = append(cfg.Clients, n)
	}
	w, err := findWeir()
	if err != nil {
		return err
	}
	cfg.WeirBin, cfg.WeirVersion, cfg.Log = w.bin, w.version, os.Stderr
	cfg.Command = commandLine("store", args)
	_, err = storebench.Run(ctx, cfg)
	return err
}
