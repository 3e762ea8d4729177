package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	podsbench "github.com/weirnet/weir/tests/bench/pods"
)

// runPods: `weir-bench pods` measures pod startup (create -> Running
// and Ready with an IP) on a local cluster of real nodes (see
// tests/bench/pods).
func runPods(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("weir-bench pods", flag.ContinueOnError)
	var cfg podsbench.Config
	fs.IntVar(&cfg.Pods, "pods", 100, "pods created")
	fs.Float64Var(&cfg.Rate, "rate", 10, "pods created per second (negative: all at once)")
	fs.IntVar(&cfg.Nodes, "nodes", 2, "nodes (agents)")
	fs.BoolVar(&cfg.NoVolumes, "no-volumes", false, "only bare pods (default: every other pod mounts a configMap, a secret, an emptyDir and a projected token)")
	fs.StringVar(&cfg.Dir, "dir", "", "parent directory of the cluster's data dir (default $TMPDIR)")
	fs.StringVar(&cfg.Out, "out", "docs/benchmarks.md", "markdown file whose pods section is replaced (empty: none)")
	fs.StringVar(&cfg.JSONDir, "json-dir", "docs/bench", "directory for pods.json (empty: none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("weir-bench pods creates network namespaces, cgroups and a containerd: run it as root (sudo)")
	}
	w, err := findWeir()
	if err != nil {
		return err
	}
	cfg.Bin, cfg.WeirVersion, cfg.Log = filepath.Dir(w.bin), w.version, os.Stderr
	cfg.Command = commandLine("pods", args)
	_, err = podsbench.Run(ctx, cfg)
	return err
}
