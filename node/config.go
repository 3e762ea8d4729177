package node

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"regexp"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var bootstrapTokenRE = regexp.MustCompile(`^[a-z0-9]{6}\.[a-z0-9]{16}$`)

// Config configures an Agent. Zero values get the defaults below.
type Config struct {
	Server string // HOST:PORT of a control member's node-stream listener (required)
	// BootstrapToken (ID.SECRET, `weir token create`) gets the node its
	// client certificate when DataDir/pki holds none; afterwards the
	// certificate alone authenticates the agent (renewed before expiry).
	BootstrapToken string
	CAPEM          []byte // cluster CA certificate (required)
	ServerName     string // name in the server certificate; default: Server's host

	NodeName      string // required
	DataDir       string // agent state (IPAM store under ipam/); default /var/lib/weir/agent
	CgroupRoot    string // cgroup v2 dir the socket LB attaches to (required unless Dataplane is set)
	UnderlayIface string // the node's link to other nodes (required)
	Netns         string // network namespace (`ip netns` name) of the underlay and routes; "" = the agent's own
	CNIConfDir    string // default /etc/cni/net.d
	AgentSocket   string // default /run/weir/agent.sock
	MTU           int    // pod MTU in the CNI config; 0: kernel default (VXLAN mode: the device's MTU)
	RouteMode     string // RouteModeDirect (default) or RouteModeVXLAN
	VXLANPort     int    // UDP port of the VXLAN mode; default VXLANPort (8472)

	// Addresses are the node's addresses; default: the IPv4 addresses of UnderlayIface.
	Addresses []string
	// Heartbeat is the interval of heartbeats on the stream; default 2s.
	Heartbeat time.Duration
	// Backoff bounds the reconnect delay; default 200ms doubling to 5s.
	Backoff time.Duration
	// ResyncInterval is how often the dataplane, kept current change by
	// change, is fully resynced as a safety net (Dataplane.Resync, which
	// counts the drift it repairs); default 5m. After a change the
	// dataplane failed, the resync comes within 30s (or the interval,
	// when shorter).
	ResyncInterval time.Duration

	// RunPods runs the pods bound to this node through containerd
	// (node/runtime); off, the agent only programs the network.
	RunPods    bool
	Containerd string        // containerd socket; default /run/containerd/containerd.sock
	CNIBinDirs []string      // where weir-cni is found; default /opt/cni/bin
	RuncRoot   string        // runc state dir of the node's tasks; "" = the shim's default
	PodBackoff time.Duration // first container restart delay; default 10s
	// InsecureRegistries (HOST:PORT) are pulled from over plain HTTP;
	// localhost and 127.0.0.1 registries always are.
	InsecureRegistries []string
	// ManifestDir holds static pod manifests (with RunPods): they run
	// without the control plane and are mirrored to the API; "" = none.
	// ManifestPoll is how often it is read; default 2s.
	ManifestDir  string
	ManifestPoll time.Duration
	// ClusterDNS is the nameserver of the pods' resolv.conf (dnsPolicy
	// ClusterFirst): an IP, ClusterDNSAuto (the 10th address of
	// ServiceCIDR, where weir server puts kube-system/kube-dns) or "" (a
	// copy of the host's resolv.conf).
	ClusterDNS string

	// DNSListen is where the node's cluster DNS server listens (UDP and
	// TCP): IP:PORT, DNSListenAuto (the first of Addresses, port 53), or
	// "" for no DNS server. Pods reach it through kube-dns's ClusterIP.
	DNSListen string
	// DNSUpstreams ("ip:port") answer names outside the zone; default:
	// the nameservers of DNSResolvConf (default /etc/resolv.conf).
	DNSUpstreams  []string
	DNSResolvConf string
	// DNSZone is the cluster domain; default cluster.local.
	DNSZone string
	// ServiceCIDR is the ClusterIP range (an allowed DNS source with the
	// cluster CIDR and the node's addresses); default 10.96.0.0/12.
	ServiceCIDR string

	// Masquerade SNATs pod egress to the node's address on the underlay
	// link (an nftables table in the node's network namespace, `nft`),
	// except toward the cluster CIDR, ServiceCIDR, the cluster's nodes and
	// NonMasqueradeCIDRs.
	Masquerade         bool
	NonMasqueradeCIDRs []string

	// NodeAPIPort is the port of the node API (logs and exec for the
	// control plane, with RunPods) on the node's first address; 0: none.
	// The agent command's default is 10250.
	NodeAPIPort int

	// Dataplane, Routes and Listener override the kernel side (tests,
	// embedders); nil means the real dataplane and netlink routes.
	Dataplane Dataplane
	Routes    Routes
	Listener  Listener

	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

func (c Config) withDefaults() (Config, error) {
	switch {
	case c.Server == "":
		return c, errors.New("agent: --server is required: a control member's node-stream address HOST:PORT")
	case len(c.CAPEM) == 0:
		return c, errors.New("agent: pass --ca-file with the cluster CA (ca.crt in a control member's data dir)")
	case c.NodeName == "":
		return c, errors.New("agent: --node-name is required")
	case c.UnderlayIface == "":
		return c, errors.New("agent: --underlay-iface is required: the link other nodes are reached through")
	case c.CgroupRoot == "" && c.Dataplane == nil:
		return c, errors.New("agent: --cgroup-root is required: the cgroup v2 dir of the node's pods")
	}
	if c.BootstrapToken != "" && !bootstrapTokenRE.MatchString(c.BootstrapToken) {
		return c, errors.New("agent: the bootstrap token is not ID.SECRET (6 and 16 characters of [a-z0-9]): agents no longer take the cluster token; create one with `weir token create`")
	}
	switch c.RouteMode {
	case "":
		c.RouteMode = RouteModeDirect
	case RouteModeDirect, RouteModeVXLAN:
	default:
		return c, fmt.Errorf("agent: --route-mode %q: want direct (nodes share an L2) or vxlan", c.RouteMode)
	}
	if c.DataDir == "" {
		c.DataDir = "/var/lib/weir/agent"
	}
	if !filepath.IsAbs(c.DataDir) {
		return c, fmt.Errorf("agent: --data-dir %q must be absolute", c.DataDir)
	}
	if c.CNIConfDir == "" {
		c.CNIConfDir = "/etc/cni/net.d"
	}
	if c.AgentSocket == "" {
		c.AgentSocket = "/run/weir/agent.sock"
	}
	if c.Heartbeat <= 0 {
		c.Heartbeat = 2 * time.Second
	}
	if c.ManifestPoll <= 0 {
		c.ManifestPoll = 2 * time.Second
	}
	if c.Backoff <= 0 {
		c.Backoff = 200 * time.Millisecond
	}
	if c.ResyncInterval <= 0 {
		c.ResyncInterval = 5 * time.Minute
	}
	if c.DNSResolvConf == "" {
		c.DNSResolvConf = "/etc/resolv.conf"
	}
	if c.ServiceCIDR == "" {
		c.ServiceCIDR = "10.96.0.0/12"
	}
	if err := c.checkDNS(); err != nil {
		return c, err
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// checkDNS validates the DNS and address-range fields early, with the
// flag names.
func (c Config) checkDNS() error {
	if c.DNSListen != "" && c.DNSListen != DNSListenAuto {
		if _, err := netip.ParseAddrPort(c.DNSListen); err != nil {
			return fmt.Errorf("agent: --dns-listen %q: want IP:PORT, auto or empty (no DNS server): %w", c.DNSListen, err)
		}
	}
	for _, u := range c.DNSUpstreams {
		if _, err := netip.ParseAddrPort(u); err != nil {
			return fmt.Errorf("agent: --dns-upstream %q: want IP:PORT (e.g. 192.0.2.53:53): %w", u, err)
		}
	}
	if _, err := nonMasqueradeCIDRs("", "", c.NonMasqueradeCIDRs); err != nil {
		return fmt.Errorf("agent: --non-masquerade-cidr: %w", err)
	}
	if _, err := netip.ParsePrefix(c.ServiceCIDR); err != nil {
		return fmt.Errorf("agent: --service-cidr %q: want e.g. 10.96.0.0/12: %w", c.ServiceCIDR, err)
	}
	return nil
}
