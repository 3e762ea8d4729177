package main

import (
	"context"
	"flag"
	"log/slog"

	dnsbench "github.com/weirnet/weir/tests/bench/dns"
)

// runDNS is `weir-bench dns`: see package tests/bench/dns.
func runDNS(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("weir-bench dns", flag.ContinueOnError)
	var o dnsbench.Options
	fs.IntVar(&o.Services, "services", 10000, "services to load")
	fs.IntVar(&o.Endpoints, "endpoints", 50000, "endpoints (and pods) to load")
	fs.DurationVar(&o.Duration, "duration", 0, "length of each dnsperf run (default 10s)")
	fs.IntVar(&o.Rounds, "rounds", 3, "saturation rounds over all scenarios; the best is reported")
	fs.IntVar(&o.Clients, "clients", 4, "dnsperf -c: client sockets")
	fs.IntVar(&o.Outstanding, "outstanding", 200, "dnsperf -q: queries in flight")
	fs.StringVar(&o.Dnsperf, "dnsperf", "dnsperf", "dnsperf binary")
	out := fs.String("out", "docs/benchmarks.md", "markdown file to update (section dns)")
	jsonDir := fs.String("json-dir", "docs/bench", "directory for dns.json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o.Command = commandLine("dns", args)
	o.Logger = slog.Default()
	res, err := dnsbench.Run(ctx, o)
	if err != nil {
		return err
	}
	return dnsbench.Write(res, *out, *jsonDir)
}
