package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/weirnet/weir/control/nodestream"
	"github.com/weirnet/weir/dataplane"
	"github.com/weirnet/weir/node/nodeapi"
	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

// Agent is one node's agent: it registers, follows the node stream and
// programs the kernel from it. The last applied state stays in the kernel
// while the control plane is away: nothing is flushed on disconnect.
type Agent struct {
	cfg     Config
	log     *slog.Logger
	client  pb.NodeStreamClient
	id      *nodeIdentity // the node's client certificate
	rec     *Reconciler
	dns     *nodeDNS // nil without Config.DNSListen
	closers []func()

	pods    PodRuntime  // nil unless Config.RunPods
	reports *podReports // latest pod statuses for the control plane
	static  *staticPods // pods of Config.ManifestDir and their mirrors
	syncMu  sync.Mutex  // serialises syncPods (stream and manifest dir)

	mu    sync.Mutex
	state *State // owned by the stream loop; read under mu
	// applied is, per kind, the version whose state the kernel (and the
	// pod runtime) has taken: it lags state.Versions while an update is
	// being programmed. Read under mu.
	applied map[pb.Kind]uint64
	podCIDR string
	stream  *agentStream

	nodeAPI *nodeapi.Server // nil without RunPods or NodeAPIPort
	// portmapDir holds the CNI portmap plugin ("" when none was found).
	portmapDir string
	// The masquerade's inputs and the script last installed
	// (masquerade.go), under masqMu.
	masqMu                   sync.Mutex
	masqCluster, masqPodCIDR string
	masqNodes                []netip.Addr
	masqApplied              string
}

// Run starts an agent and serves until ctx ends.
func Run(ctx context.Context, cfg Config) error {
	a, err := New(cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Run(ctx)
}

// New opens the kernel side (dataplane, netlink, agent socket) and the
// client; Run connects.
func New(cfg Config) (*Agent, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	a := &Agent{cfg: cfg, log: cfg.Logger.With("node", cfg.NodeName), state: NewState(), reports: newPodReports(), static: newStaticPods()}
	if a.portmapDir = findCNIPlugin("portmap", cfg.CNIBinDirs); a.portmapDir != "" {
		a.log.Info("host ports are forwarded by the CNI portmap plugin", "dir", a.portmapDir)
	} else {
		a.log.Warn("no CNI portmap plugin found: pods with hostPort will fail to start; install the reference CNI plugins (Debian: containernetworking-plugins)",
			"searched", append(append([]string(nil), cfg.CNIBinDirs...), standardCNIBinDirs...))
	}
	if err := a.open(); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

func (a *Agent) open() error {
	if len(a.cfg.Addresses) == 0 {
		addrs, err := linkIPv4s(a.cfg.Netns, a.cfg.UnderlayIface)
		if err != nil {
			return err
		}
		a.cfg.Addresses = addrs
	}
	id, err := newNodeIdentity(a.cfg.DataDir, a.cfg.NodeName, a.cfg.CAPEM)
	if err != nil {
		return err
	}
	if id.cur.Load() == nil && a.cfg.BootstrapToken == "" {
		return fmt.Errorf("agent: no node certificate in %s and no bootstrap token: pass --bootstrap-token-file (`weir token create` on a control member prints one)", id.dir)
	}
	a.id = id
	client, conn, err := nodestream.Dial(nodestream.DialConfig{Addr: a.cfg.Server, Certificate: id.certificate, Roots: id.roots, ServerName: a.cfg.ServerName,
		OnServerCert: id.serverCert})
	if err != nil {
		return err
	}
	a.client = client
	a.closers = append(a.closers, func() { conn.Close() })
	a.rec = &Reconciler{Dataplane: a.cfg.Dataplane, Routes: a.cfg.Routes, Listener: a.cfg.Listener}
	if a.cfg.DNSListen != "" {
		a.dns = &nodeDNS{a: a, next: a.cfg.Listener}
		a.rec.Listener = a.dns
		a.closers = append(a.closers, a.dns.close)
	}
	if a.rec.Routes == nil {
		if err := a.openRoutes(); err != nil {
			return err
		}
	}
	if a.cfg.Masquerade {
		a.rec.Routes = masqRoutes{Routes: a.rec.Routes, a: a} // other nodes' addresses skip the masquerade
	}
	if a.rec.Dataplane == nil {
		// The per-packet path on the underlay serves NodePorts (and traffic
		// from outside) addressed to the node.
		m, err := dataplane.New(dataplane.Config{Instance: a.cfg.NodeName, CgroupPath: a.cfg.CgroupRoot, Netns: a.cfg.Netns,
			Interfaces: []string{a.cfg.UnderlayIface}, NodeIPs: parseAddrs(a.cfg.Addresses), Logger: a.log, Registerer: a.cfg.Registerer})
		if err != nil {
			return fmt.Errorf("dataplane: %w", err)
		}
		a.rec.Dataplane = m
		a.closers = append(a.closers, func() { m.Close() })
	}
	sock, err := listenStatus(a.cfg.AgentSocket)
	if err != nil {
		return err
	}
	a.closers = append(a.closers, sock.Close)
	if err := a.openPods(); err != nil {
		return err
	}
	return a.openNodeAPI()
}

// Close releases what New opened; pinned maps, attachments and routes
// stay so that traffic keeps flowing. Call after Run returned.
func (a *Agent) Close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
	a.closers = nil
}

// Run follows the node stream until ctx ends, reconnecting with backoff.
func (a *Agent) Run(ctx context.Context) error {
	defer a.runStatic(ctx)() // static pods run with or without the control plane
	if err := a.ensureCertificate(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	renewCtx, stopRenew := context.WithCancel(ctx)
	renewDone := make(chan struct{})
	go func() { defer close(renewDone); a.renewLoop(renewCtx) }()
	defer func() { stopRenew(); <-renewDone }()
	resyncCtx, stopResync := context.WithCancel(ctx)
	resyncDone := make(chan struct{})
	go func() { defer close(resyncDone); a.resyncLoop(resyncCtx) }()
	defer func() { stopResync(); <-resyncDone }()
	delay := a.cfg.Backoff
	for ctx.Err() == nil {
		start := time.Now()
		err := a.session(ctx)
		if ctx.Err() != nil {
			break
		}
		if time.Since(start) > 10*time.Second {
			delay = a.cfg.Backoff
		}
		a.log.Warn("node stream interrupted; the last applied state stays in place", "error", err, "retry", delay)
		select {
		case <-ctx.Done():
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
	}
	return nil
}

// Version is the version of kind the agent has applied: its state is in
// the dataplane maps, routes and pods (0: none yet). It never runs ahead
// of the kernel, so a caller that waited for version N sees N's effect.
func (a *Agent) Version(kind pb.Kind) uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.applied[kind]
}

// held is the version of kind the agent's state holds, which may be
// ahead of what is applied while an update is being programmed.
func (a *Agent) held(kind pb.Kind) uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.state.Versions[kind]
}

// PodCIDR is the pod CIDR the control plane assigned ("" before Register).
func (a *Agent) PodCIDR() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.podCIDR
}

func (a *Agent) cniConf(podCIDR string) CNIConf {
	return CNIConf{PodCIDR: podCIDR, DataDir: filepath.Join(a.cfg.DataDir, "ipam"), AgentSocket: a.cfg.AgentSocket,
		DataplaneInstance: a.cfg.NodeName, MTU: a.cfg.MTU, PortMap: a.portmapDir != ""}
}

// linkIPv4s lists the global IPv4 addresses of a link.
func linkIPv4s(nsName, link string) ([]string, error) {
	ns := netns.None()
	if nsName != "" {
		var err error
		if ns, err = netns.GetFromName(nsName); err != nil {
			return nil, fmt.Errorf("open network namespace %s: %w", nsName, err)
		}
		defer ns.Close()
	}
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	l, err := h.LinkByName(link)
	if err != nil {
		return nil, fmt.Errorf("underlay link %s: %w", link, err)
	}
	addrs, err := h.AddrList(l, unix.AF_INET)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ad := range addrs {
		if ad.Scope == unix.RT_SCOPE_UNIVERSE {
			out = append(out, ad.IP.String())
		}
	}
	if len(out) == 0 {
		return nil, errors.New("agent: the underlay link " + link + " has no IPv4 address: give it one or pass the node address")
	}
	return out, nil
}

func parseAddrs(ss []string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, a)
		}
	}
	return out
}
