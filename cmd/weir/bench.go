package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// benchmarks maps `weir bench NAME` to its runner; each lives in bench_NAME.go.
func benchmarks() map[string]command {
	return map[string]command{
		"api":             {"API reads: list 10k pods, get, watch fan-out; JSON and protobuf vs the pre-codec JSON baseline", runBenchAPI},
		"dns":             {"cluster DNS with dnsperf: 10k services, 50k endpoints", runBenchDNS},
		"pods":            {"pod startup on 2 real nodes: create -> Running+Ready with an IP, p50/p99 over 100 pods", runBenchPods},
		"push":            {"node stream: EndpointSlice write -> last of 100 agents' ACK, p50/p99, bursts, CPU/RSS per agent", runBenchPush},
		"scheduler":       {"scheduler: 10,000 pods onto 5,000 in-memory nodes, pods/s", runBenchScheduler},
		"service-latency": {"eBPF service LB vs kube-proxy iptables/nftables: CRR/RR/UDP latency, install/change time, memory", runBenchServiceLatency},
		"up":              {"weir up --nodes 3 (--control 1 and 3) to a passing self-check, then idle RSS/CPU per component", runBenchUp},
		"store":           {"weir vs etcd 3.4: writes/s, p50/p99, RSS (3 members each)", runBenchStore},
	}
}

func runBench(ctx context.Context, args []string) error {
	b := benchmarks()
	names := make([]string, 0, len(b))
	for n := range b {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(args) == 0 {
		return fmt.Errorf("usage: weir bench NAME [flags]; benchmarks: %s", strings.Join(names, ", "))
	}
	c, ok := b[args[0]]
	if !ok {
		return fmt.Errorf("unknown benchmark %q; benchmarks: %s", args[0], strings.Join(names, ", "))
	}
	return c.run(ctx, args[1:])
}
