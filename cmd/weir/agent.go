package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirnet/weir/node"
)

func runAgent(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("weir agent", flag.ContinueOnError)
	var c node.Config
	var tokenFile, caFile, logLevel string
	fs.StringVar(&c.Server, "server", "", "control members' node-stream addresses HOST:PORT[,HOST:PORT...] (their --node-listen; the agent fails over between them) (required)")
	fs.StringVar(&tokenFile, "bootstrap-token-file", "", "file holding a bootstrap token (weir token create) the agent gets its node certificate with, kept in DATA-DIR/pki; needed only while it has none")
	fs.StringVar(&tokenFile, "token-file", "", "old name of --bootstrap-token-file")
	fs.StringVar(&caFile, "ca-file", "", "cluster CA certificate (ca.crt in a control member's data dir) (required)")
	fs.StringVar(&c.ServerName, "server-name", "", "name to verify in the server certificate (default: --server's host)")
	fs.StringVar(&c.NodeName, "node-name", "", "this node's name (required)")
	fs.StringVar(&c.DataDir, "data-dir", "/var/lib/weir/agent", "agent state directory (IPAM store under ipam/)")
	fs.StringVar(&c.CgroupRoot, "cgroup-root", "", "cgroup v2 directory of the node's pods; the socket load balancer attaches there (required)")
	fs.StringVar(&c.UnderlayIface, "underlay-iface", "", "the link other nodes are reached through (required)")
	fs.StringVar(&c.Netns, "netns", "", "network namespace (ip netns name) of the underlay and routes (default: the agent's own)")
	fs.StringVar(&c.CNIConfDir, "cni-conf-dir", "/etc/cni/net.d", "where to write 10-weir.conflist")
	fs.StringVar(&c.AgentSocket, "agent-socket", "/run/weir/agent.sock", "unix socket weir-cni STATUS probes")
	fs.IntVar(&c.MTU, "mtu", 0, "pod MTU written to the CNI config (default: kernel default; vxlan: the VXLAN device's MTU)")
	fs.StringVar(&c.RouteMode, "route-mode", "direct", "routes to other nodes' pod CIDRs: direct (nodes share an L2) or vxlan (overlay over a routed underlay)")
	fs.IntVar(&c.VXLANPort, "vxlan-port", 0, "UDP destination port of the vxlan route mode (default 8472; 4789 is the IANA port)")
	fs.DurationVar(&c.Heartbeat, "heartbeat", 0, "heartbeat interval on the node stream (default 2s)")
	fs.BoolVar(&c.RunPods, "run-pods", false, "run the pods bound to this node through containerd (--containerd)")
	fs.StringVar(&c.Containerd, "containerd", "/run/containerd/containerd.sock", "containerd socket the pods run through (with --run-pods)")
	fs.Func("insecure-registry", "registry HOST:PORT to pull images from over plain HTTP (repeatable; localhost and 127.0.0.1 always are)", func(v string) error { c.InsecureRegistries = append(c.InsecureRegistries, v); return nil })
	fs.StringVar(&c.RuncRoot, "runc-root", "", "runc state dir of the node's tasks (default: the containerd shim's)")
	fs.StringVar(&c.ClusterDNS, "cluster-dns", node.ClusterDNSAuto, "nameserver of the pods' resolv.conf: an IP, auto (the 10th address of --service-cidr: kube-dns) or empty (the host's resolv.conf)")
	fs.StringVar(&c.ManifestDir, "manifest-dir", "/etc/weir/manifests", "static pod manifests (YAML or JSON Pods), run with --run-pods even without the control plane and mirrored to the API; a missing dir holds none")
	fs.IntVar(&c.NodeAPIPort, "node-api-port", 10250, "HTTPS port of the node API (weir logs and exec, with --run-pods) on the node's address; 0 turns it off")
	fs.DurationVar(&c.PodBackoff, "pod-backoff", 0, "first container restart delay, doubling up to 5m (default 10s)")
	cniBin := fs.String("cni-bin-dir", "/opt/cni/bin", "directories where weir-cni is found (colon-separated)")
	fs.StringVar(&c.DNSListen, "dns-listen", node.DNSListenAuto, "cluster DNS listener IP:PORT (UDP and TCP); auto: the node's first address, port 53; empty: no DNS server")
	fs.Func("dns-upstream", "resolver IP:PORT for names outside the cluster zone (repeatable; default: the nameservers of --dns-resolv-conf)", func(v string) error {
		c.DNSUpstreams = append(c.DNSUpstreams, v)
		return nil
	})
	fs.StringVar(&c.DNSResolvConf, "dns-resolv-conf", "/etc/resolv.conf", "resolv.conf whose nameservers are the DNS upstreams when no --dns-upstream is given")
	fs.StringVar(&c.DNSZone, "cluster-domain", "cluster.local", "the cluster DNS zone")
	fs.StringVar(&c.ServiceCIDR, "service-cidr", "10.96.0.0/12", "the ClusterIP range (the control members' --service-cidr); an allowed DNS source")
	fs.BoolVar(&c.Masquerade, "masquerade", true, "SNAT pod traffic leaving the cluster to the node's address on --underlay-iface (needs nft, Debian package nftables)")
	fs.Func("non-masquerade-cidr", "destination CIDR pods reach with their own address, besides the cluster and Service CIDRs (repeatable)", func(v string) error {
		c.NonMasqueradeCIDRs = append(c.NonMasqueradeCIDRs, v)
		return nil
	})
	fs.DurationVar(&c.ResyncInterval, "resync-interval", 0, "how often the dataplane, kept current change by change, is fully resynced as a safety net (default 5m)")
	metrics := fs.String("metrics-addr", "", "serve Prometheus metrics (dataplane and DNS) on this `address` (e.g. 127.0.0.1:9466); empty: none")
	fs.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c.CNIBinDirs = filepath.SplitList(*cniBin)
	logger, err := newLogger(logLevel)
	if err != nil {
		return err
	}
	c.Logger = logger
	if caFile == "" {
		return fmt.Errorf("--ca-file is required (a control member's DATA-DIR/ca.crt)")
	}
	if tokenFile != "" {
		tok, err := os.ReadFile(tokenFile)
		if err != nil {
			return fmt.Errorf("--bootstrap-token-file: %w", err)
		}
		c.BootstrapToken = strings.TrimSpace(string(tok))
	}
	if c.CAPEM, err = os.ReadFile(caFile); err != nil {
		return fmt.Errorf("--ca-file: %w", err)
	}
	if *metrics != "" {
		reg := prometheus.NewRegistry()
		c.Registerer = reg
		stop, err := serveMetrics(*metrics, reg)
		if err != nil {
			return err
		}
		defer stop()
	}
	return node.Run(ctx, c)
}
