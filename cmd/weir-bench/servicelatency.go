package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/weirnet/weir/tests/bench/servicelatency"
)

// runServiceLatency is `weir-bench service-latency`: see package
// servicelatency. weir-bench itself, re-executed with
// servicelatency.ChildEnv=client (main checks it first), is the
// benchmark's client process.
func runServiceLatency(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("weir-bench service-latency", flag.ContinueOnError)
	quick := fs.Bool("quick", false, "small samples at 1 and 1,000 services (< 2 minutes)")
	scales := fs.String("scales", "", "comma-separated numbers of services (default 1,1000,10000,30000,100000; --quick: 1,1000)")
	modes := fs.String("modes", "", "comma-separated modes (default direct,weir,iptables,nftables)")
	var o servicelatency.Options
	fs.IntVar(&o.KubeProxyMax, "kube-proxy-max", 30000, "largest scale for the iptables and nftables modes")
	fs.IntVar(&o.Endpoints, "endpoints", 1, "endpoints of each non-measured service")
	fs.IntVar(&o.SyncBackends, "sync-backends", 10, "weir also syncs each scale with this many backends per service (0: skip)")
	fs.IntVar(&o.Rounds, "rounds", 0, "rounds (each runs every mode once)")
	fs.IntVar(&o.CRR, "crr", 0, "TCP connect/request/response/close samples per target, mode and round")
	fs.IntVar(&o.RR, "rr", 0, "TCP request/response samples per target, mode and round")
	fs.IntVar(&o.UDP, "udp", 0, "UDP request/response samples per target, mode and round")
	fs.IntVar(&o.Changes, "changes", 0, "timed one-service changes per mode and scale")
	fs.StringVar(&o.Iptables, "iptables-restore", "iptables-legacy-restore", "iptables-legacy-restore or iptables-nft-restore")
	fs.Uint64Var(&o.Seed, "seed", 1, "seed of the random service positions")
	out := fs.String("out", "docs/benchmarks.md", "markdown file to update (section service-latency)")
	jsonDir := fs.String("json-dir", "docs/bench", "directory for service-latency.json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *quick {
		q := servicelatency.Quick()
		o.Scales, o.Rounds, o.CRR, o.RR, o.UDP, o.Changes = q.Scales, pick(o.Rounds, q.Rounds), pick(o.CRR, q.CRR), pick(o.RR, q.RR), pick(o.UDP, q.UDP), pick(o.Changes, q.Changes)
	}
	if *scales != "" {
		o.Scales = nil
		for _, s := range strings.Split(*scales, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil {
				return fmt.Errorf("--scales %q: want numbers like 1,1000,10000", *scales)
			}
			o.Scales = append(o.Scales, n)
		}
	}
	if *modes != "" {
		o.Modes = strings.Split(*modes, ",")
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own binary for the client process: %w", err)
	}
	o.ClientArgv = []string{exe}
	o.Logger = slog.Default()
	o.Progress = os.Stderr
	res, err := servicelatency.Run(ctx, o)
	if err != nil {
		return err
	}
	res.Command = commandLine("service-latency", args)
	return servicelatency.Write(res, *out, *jsonDir)
}

func pick(v, d int) int {
	if v > 0 {
		return v
	}
	return d
}
