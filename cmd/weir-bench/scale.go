package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/weirnet/weir/tests/bench/scale"
	"github.com/weirnet/weir/tests/benchreport"
)

// runScale: `weir-bench scale` measures weir at many Services in real
// `weir up` clusters (see tests/bench/scale). Needs root, like `weir up`.
func runScale(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("weir-bench scale", flag.ContinueOnError)
	var cfg scale.Config
	fs.Func("nodes", "node counts of the clusters measured, comma-separated (default 1,3)", intList(&cfg.Nodes))
	fs.Func("services", "Service counts, ascending, comma-separated; each size adds Services to the same cluster (default 1000,10000,30000)", intList(&cfg.Services))
	fs.IntVar(&cfg.EndpointsEvery, "endpoints-every", 0, "one Service in this many has an EndpointSlice (default 10)")
	fs.IntVar(&cfg.Endpoints, "endpoints", 0, "endpoints per EndpointSlice (default 10)")
	fs.IntVar(&cfg.Workers, "workers", 0, "concurrent API writers while applying (default 16)")
	fs.IntVar(&cfg.Changes, "changes", 0, "single EndpointSlice changes timed to every node's maps, per size (default 100)")
	fs.IntVar(&cfg.DNSChanges, "dns-changes", 0, "headless EndpointSlice changes timed to every node's DNS answer, per size (default 30)")
	fs.DurationVar(&cfg.Settle, "settle", 0, "quiet time after the maps converged, before the idle window (default 5s)")
	fs.DurationVar(&cfg.Idle, "idle", 0, "idle window for CPU (default 15s)")
	fs.StringVar(&cfg.Dir, "dir", "", "parent directory of the data dirs (default $TMPDIR)")
	fs.StringVar(&cfg.Out, "out", "docs/benchmarks.md", "markdown file whose scale section is replaced (empty: none)")
	fs.StringVar(&cfg.JSONDir, "json-dir", "docs/bench", "directory for scale.json and scale-agents.json (empty: none)")
	var acfg scale.AgentsConfig
	fs.Func("agents", "emulated agent counts measured after the Services, one fresh member each, comma-separated (default 1000,5000; 0: none)", intList(&acfg.Agents))
	fs.IntVar(&acfg.Changes, "agent-changes", 50, "EndpointSlice changes timed to the last agent's ACK, per agent count")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if acfg.Agents == nil {
		acfg.Agents = []int{1000, 5000}
	}
	if len(acfg.Agents) == 1 && acfg.Agents[0] == 0 {
		acfg.Agents = nil
	}
	w, err := findWeir()
	if err != nil {
		return err
	}
	cfg.WeirBin, cfg.WeirVersion, cfg.Log = w.bin, w.version, os.Stderr
	cfg.Command = commandLine("scale", args)
	out := cfg.Out
	cfg.Out = "" // one section for both parts, written below
	r, err := scale.Run(ctx, cfg)
	if err != nil {
		return err
	}
	md := r.Markdown()
	if len(acfg.Agents) > 0 {
		acfg.WeirBin, acfg.WeirVersion, acfg.Log, acfg.Command = w.bin, w.version, os.Stderr, cfg.Command
		acfg.Dir, acfg.JSONDir = cfg.Dir, cfg.JSONDir
		res, err := scale.RunAgents(ctx, acfg)
		if err != nil {
			return err
		}
		// The agents' report as a subsection of this one.
		md = strings.TrimRight(md, "\n") + "\n\n" + strings.Replace(scale.AgentsReport(res), "## ", "### ", 1)
	}
	fmt.Print(md)
	if out == "" {
		return nil
	}
	return benchreport.UpdateSection(out, "scale", md)
}

// intList parses a comma-separated list of integers into dst.
func intList(dst *[]int) func(string) error {
	return func(s string) error {
		*dst = nil
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				return fmt.Errorf("%q: want comma-separated integers, e.g. 1,3", s)
			}
			*dst = append(*dst, n)
		}
		return nil
	}
}
