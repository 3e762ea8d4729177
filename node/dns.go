package node

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/vishvananda/netns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/weirnet/weir/dns"
	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

// DNSListenAuto as Config.DNSListen means the node's first address, port 53.
const DNSListenAuto = "auto"

// nodeDNS is the node's cluster DNS server: created at the first Register
// (its allowed sources include the cluster CIDR the control plane
// returns), fed by the reconciler as a Listener: one full Update, then a
// delta per message, whose cost does not grow with the cluster (a full
// Update costs about half a second at 10,000 services).
type nodeDNS struct {
	a    *Agent
	next Listener // the embedder's Listener, if any
	srv  atomic.Pointer[dns.Server]
	addr atomic.Pointer[string]
	wg   sync.WaitGroup
}

// Update feeds the DNS server the full object set, but only once both the
// services and the endpoint slices snapshots are held (the server turns
// ready on its first Update: never on a partial view).
func (d *nodeDNS) Update(services []corev1.Service, slices []discoveryv1.EndpointSlice, pods []corev1.Pod) {
	if d.next != nil {
		d.next.Update(services, slices, pods)
	}
	srv := d.srv.Load()
	if srv == nil || d.a.held(pb.Kind_KIND_SERVICES) == 0 || d.a.held(pb.Kind_KIND_ENDPOINTSLICES) == 0 {
		return
	}
	srv.Update(services, slices, pods)
}

// Apply feeds one message's change to a server that had its full Update;
// before that it is dropped (the full Update, when the reconciler first
// syncs or the server starts, includes it).
func (d *nodeDNS) Apply(delta dns.Delta) error {
	if d.next != nil {
		_ = d.next.Apply(delta)
	}
	srv := d.srv.Load()
	if srv == nil || !srv.Ready() {
		return nil
	}
	return srv.Apply(delta)
}

// start creates the server and serves on the configured address, once;
// a failure leaves it stopped so that the next session tries again.
func (d *nodeDNS) start(clusterCIDR, podCIDR string) error {
	if d.srv.Load() != nil {
		return nil
	}
	cfg := d.a.cfg
	addr, err := dnsListenAddr(cfg.DNSListen, cfg.Addresses)
	if err != nil {
		return err
	}
	nets, err := dnsAllowedNets(clusterCIDR, podCIDR, cfg.ServiceCIDR, cfg.Addresses)
	if err != nil {
		return err
	}
	ups := cfg.DNSUpstreams
	if len(ups) == 0 {
		if ups, err = dns.UpstreamsFromResolvConf(cfg.DNSResolvConf); err != nil {
			d.a.log.Warn("cluster DNS without upstreams: names outside the zone get REFUSED", "error", err)
		}
	}
	// Sockets first: a server (and its metrics) is created only once.
	var udp *net.UDPConn
	var tcp *net.TCPListener
	if err := inNetns(cfg.Netns, func() (err error) { udp, tcp, err = dns.Listen(addr); return err }); err != nil {
		return err
	}
	// The stream carries only this node's pods, so pod names cannot be
	// verified against all pods: answer any dashed IP, as the
	// specification's section 2.6 (and kubeadm's "pods insecure") does.
	srv, err := dns.NewServer(dns.Config{Zone: cfg.DNSZone, Upstreams: ups, AllowedNets: nets,
		PodRecords: dns.PodsInsecure, Logger: d.a.log, Registerer: cfg.Registerer})
	if err != nil {
		udp.Close()
		tcp.Close()
		return err
	}
	bound := tcp.Addr().String()
	d.addr.Store(&bound)
	d.wg.Go(func() {
		if err := srv.Serve(context.Background(), udp, tcp); err != nil {
			d.a.log.Error("cluster DNS stopped", "error", err)
		}
	})
	d.srv.Store(srv)
	if d.a.held(pb.Kind_KIND_SERVICES) != 0 && d.a.held(pb.Kind_KIND_ENDPOINTSLICES) != 0 {
		d.a.mu.Lock()
		services, slices, pods := d.a.state.Services(), d.a.state.Slices(), d.a.state.Pods()
		d.a.mu.Unlock()
		srv.Update(services, slices, pods)
	}
	d.a.log.Info("cluster DNS listening", "addr", bound, "zone", srv.Zone(), "upstreams", ups, "allowed", nets)
	return nil
}

// close stops the server and waits for it.
func (d *nodeDNS) close() {
	if srv := d.srv.Load(); srv != nil {
		srv.Close()
	}
	d.wg.Wait()
}

// DNSAddr is the address the node's DNS server listens on ("" while it
// is not serving).
func (a *Agent) DNSAddr() string {
	if a.dns == nil {
		return ""
	}
	if p := a.dns.addr.Load(); p != nil {
		return *p
	}
	return ""
}

// DNSReady reports whether the node's DNS server serves the zone (it got
// the first full snapshot).
func (a *Agent) DNSReady() bool {
	if a.dns == nil {
		return false
	}
	srv := a.dns.srv.Load()
	return srv != nil && srv.Ready()
}

// dnsListenAddr resolves DNSListenAuto to the first node address, port 53.
func dnsListenAddr(listen string, addrs []string) (string, error) {
	if listen != DNSListenAuto {
		if _, err := netip.ParseAddrPort(listen); err != nil {
			return "", fmt.Errorf("agent: --dns-listen %q: want IP:PORT, auto or empty: %w", listen, err)
		}
		return listen, nil
	}
	for _, s := range addrs {
		if a, err := netip.ParseAddr(s); err == nil {
			return netip.AddrPortFrom(a, 53).String(), nil
		}
	}
	return "", fmt.Errorf("agent: --dns-listen auto: the node has no address: pass --dns-listen IP:53")
}

// dnsAllowedNets are the sources the DNS server answers: the pods (the
// cluster CIDR, or this node's pod CIDR when the control plane sent
// none), the service range and the node's own addresses.
func dnsAllowedNets(clusterCIDR, podCIDR, serviceCIDR string, addrs []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range []string{clusterCIDR, podCIDR, serviceCIDR} {
		if s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("agent: cluster DNS allowed range %q: %w", s, err)
		}
		out = append(out, p.Masked())
	}
	for _, a := range parseAddrs(addrs) {
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// inNetns runs fn with the calling goroutine in the named network
// namespace ("" = the current one); sockets fn opens stay in it.
func inNetns(name string, fn func() error) error {
	if name == "" {
		return fn()
	}
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("current network namespace: %w", err)
	}
	defer orig.Close()
	target, err := netns.GetFromName(name)
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("open network namespace %s: %w", name, err)
	}
	defer target.Close()
	defer func() {
		// A thread that cannot go back stays locked: the runtime
		// discards it with its goroutine rather than reuse it.
		if netns.Set(orig) == nil {
			runtime.UnlockOSThread()
		}
	}()
	if err := netns.Set(target); err != nil {
		return fmt.Errorf("enter network namespace %s: %w", name, err)
	}
	return fn()
}
