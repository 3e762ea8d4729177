package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/weirnet/weir/dataplane"
)

// runDataplane is `weir dataplane`: the eBPF service load balancer on its
// own, fed from Service + EndpointSlice YAML; `weir dataplane dump` prints
// an instance's maps.
func runDataplane(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "dump" {
		return runDataplaneDump(args[1:])
	}
	fs := flag.NewFlagSet("dataplane", flag.ContinueOnError)
	var cfg dataplane.Config
	var ifaces, nodeIPs dpListFlag
	services := fs.String("services", "", "Service and EndpointSlice YAML/JSON `file or directory` (re-synced on change)")
	cleanup := fs.Bool("cleanup", false, "detach and unpin everything of the instance, then exit")
	metrics := fs.String("metrics-addr", "", "serve Prometheus metrics on this `address` (e.g. 127.0.0.1:9465)")
	fs.StringVar(&cfg.Instance, "instance", "", "instance `name`: pins under <bpffs>/weir/NAME (required)")
	fs.StringVar(&cfg.BPFFSRoot, "bpffs", "/sys/fs/bpf", "bpffs mount `dir` (mounted when missing)")
	fs.StringVar(&cfg.CgroupPath, "cgroup", "", "cgroup v2 `dir` whose sockets are load-balanced (not the cgroup2 root)")
	fs.StringVar(&cfg.Netns, "netns", "", "network namespace `name` (ip netns) of the --iface interfaces")
	fs.Var(&ifaces, "iface", "`interface` for the per-packet path (NodePort, ExternalIPs); repeatable")
	fs.Var(&nodeIPs, "node-ip", "node `address` for NodePort frontends; repeatable")
	fs.IntVar(&cfg.MaxServices, "max-services", 0, "max frontends (default 65536)")
	fs.IntVar(&cfg.MaxBackends, "max-backends", 0, "max backends (default 262144)")
	fs.IntVar(&cfg.MaglevTableSize, "maglev-size", 0, "Maglev table size, a prime (default 1021)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg.Interfaces = ifaces
	for _, s := range nodeIPs {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return fmt.Errorf("--node-ip %q: not an IP address", s)
		}
		cfg.NodeIPs = append(cfg.NodeIPs, a)
	}
	if *cleanup {
		return dataplane.Cleanup(cfg)
	}
	if *services == "" {
		return errors.New("--services FILE|DIR is required (or --cleanup); see `weir dataplane -h`")
	}
	reg := prometheus.NewRegistry()
	cfg.Registerer = reg
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	m, err := dataplane.New(cfg)
	if err != nil {
		return err
	}
	defer m.Close()
	if *metrics != "" {
		stop, err := serveMetrics(*metrics, reg)
		if err != nil {
			return err
		}
		defer stop()
	}
	return dataplane.Serve(ctx, m, *services, 0)
}

func runDataplaneDump(args []string) error {
	fs := flag.NewFlagSet("dataplane dump", flag.ContinueOnError)
	var cfg dataplane.Config
	fs.StringVar(&cfg.Instance, "instance", "", "instance `name` (required)")
	fs.StringVar(&cfg.BPFFSRoot, "bpffs", "/sys/fs/bpf", "bpffs mount `dir`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return dataplane.DumpPinned(cfg, os.Stdout)
}

// serveMetrics serves reg until the returned stop is called.
func serveMetrics(addr string, reg *prometheus.Registry) (stop func(), err error) {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-addr: %w", err)
	}
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}, nil
}

// dpListFlag is a repeatable flag that also splits on commas.
type dpListFlag []string

func (l *dpListFlag) String() string { return strings.Join(*l, ",") }

func (l *dpListFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}
