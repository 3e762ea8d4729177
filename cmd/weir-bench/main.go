// Command weir-bench runs weir's benchmarks (weir-bench NAME [flags]); each
// writes its section of docs/benchmarks.md and docs/bench/NAME.json, and
// times never gate anything. It is a binary of its own so that bin/weir
// links no benchmark harness, test cluster or etcd client
// (cmd/weir/deps_test.go checks that). The benchmarks that start weir
// processes run the weir binary beside weir-bench: `make build` writes both
// into bin/. Each subcommand parses its flags here and hands off to its
// package under tests/bench.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/weirnet/weir/tests/bench/servicelatency"
)

type benchmark struct {
	summary string
	run     func(ctx context.Context, args []string) error
}

// benchmarks maps `weir-bench NAME` to its runner; each lives in NAME.go.
func benchmarks() map[string]benchmark {
	return map[string]benchmark{
		"api":             {"API reads: list 10k pods, get, watch fan-out; JSON and protobuf vs the pre-codec JSON baseline", runAPI},
		"dns":             {"cluster DNS with dnsperf: 10k services, 50k endpoints", runDNS},
		"pods":            {"pod startup on 2 real nodes: create -> Running+Ready with an IP, p50/p99 over 100 pods", runPods},
		"push":            {"node stream: EndpointSlice write -> last of 100 agents' ACK, p50/p99, bursts, CPU/RSS per agent", runPush},
		"scale":           {"Services at scale in weir up clusters (1 and 3 nodes; 1k, 10k, 30k): apply vs a bare server, idle CPU/RSS, change -> every node's maps and DNS", runScale},
		"scale-agents":    {"one member, 1,000 and 5,000 emulated agents: idle CPU/RSS per agent, heartbeat store writes/s, change->last ACK p99", runScaleAgents},
		"scheduler":       {"scheduler: 10,000 pods onto 5,000 in-memory nodes, pods/s", runScheduler},
		"service-latency": {"eBPF service LB vs kube-proxy iptables/nftables: CRR/RR/UDP latency, install/change time, memory", runServiceLatency},
		"up":              {"weir up --nodes 3 (--control 1 and 3) to a passing self-check, then idle RSS/CPU per component", runUp},
		"store":           {"weir vs etcd 3.4: writes/s, p50/p99, RSS (3 members each)", runStore},
	}
}

func main() {
	// service-latency re-executes this binary as its client process.
	if os.Getenv(servicelatency.ChildEnv) == "client" {
		os.Exit(servicelatency.ChildMain())
	}
	b := benchmarks()
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		usage(b)
		if len(os.Args) < 2 {
			os.Exit(2)
		}
		return
	}
	c, ok := b[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "weir-bench: unknown benchmark %q; benchmarks: %s\n", os.Args[1], strings.Join(names(b), ", "))
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := c.run(ctx, os.Args[2:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintf(os.Stderr, "weir-bench %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func names(b map[string]benchmark) []string {
	n := make([]string, 0, len(b))
	for k := range b {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

func usage(b map[string]benchmark) {
	fmt.Fprintln(os.Stderr, "usage: weir-bench NAME [flags]\n\nbenchmarks (each writes its section of docs/benchmarks.md):")
	for _, n := range names(b) {
		fmt.Fprintf(os.Stderr, "  %-16s %s\n", n, b[n].summary)
	}
}

// commandLine is how a report quotes the command that produced it.
func commandLine(name string, args []string) string {
	return strings.TrimSpace("weir-bench " + name + " " + strings.Join(args, " "))
}

// weir is the weir binary beside this one, which the benchmarks run as
// control members, agents and `weir up`, and its version for the reports.
type weir struct {
	bin, version string
}

// findWeir locates the weir beside weir-bench and asks its version.
func findWeir() (weir, error) {
	exe, err := os.Executable()
	if err != nil {
		return weir{}, fmt.Errorf("find weir-bench's own path: %w", err)
	}
	return weirIn(filepath.Dir(exe))
}

func weirIn(dir string) (weir, error) {
	bin := filepath.Join(dir, "weir")
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return weir{}, fmt.Errorf("no weir binary beside weir-bench (%s): build both with `make build`", bin)
		}
		return weir{}, fmt.Errorf("%s version: %w", bin, err)
	}
	v, ok := strings.CutPrefix(strings.TrimSpace(string(out)), "weir ")
	if !ok {
		return weir{}, fmt.Errorf("%s version printed %q, want \"weir VERSION\"", bin, out)
	}
	return weir{bin: bin, version: v}, nil
}
