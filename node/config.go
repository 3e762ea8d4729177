package node

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Config configures an Agent. Zero values get the defaults below.
type Config struct {
	Server     string // HOST:PORT of a control member's node-stream listener (required)
	Token      string // node token (required)
	CAPEM      []byte // cluster CA certificate (required)
	ServerName string // name in the server certificate; default: Server's host

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

	// RunPods runs the pods bound to this node through containerd
	// (node/runtime); off, the agent only programs the network.
	RunPods    bool
	Containerd string        // containerd socket; default /run/containerd/containerd.sock
	CNIBinDirs []string      // where weir-cni is found; default /opt/cni/bin
	RuncRoot   string        // runc state dir of the node's tasks; "" = the shim's default
	PodBackoff time.Duration // first container restart delay; default 10s

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
	case c.Token == "":
		return c, errors.New("agent: empty node token: pass --token-file with the cluster's node token")
	case len(c.CAPEM) == 0:
		return c, errors.New("agent: pass --ca-file with the cluster CA (ca.crt in a control member's data dir)")
	case c.NodeName == "":
		return c, errors.New("agent: --node-name is required")
	case c.UnderlayIface == "":
		return c, errors.New("agent: --underlay-iface is required: the link other nodes are reached through")
	case c.CgroupRoot == "" && c.Dataplane == nil:
		return c, errors.New("agent: --cgroup-root is required: the cgroup v2 dir of the node's pods")
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
	if c.Backoff <= 0 {
		c.Backoff = 200 * time.Millisecond
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}
