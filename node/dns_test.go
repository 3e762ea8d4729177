package node

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/weirnet/weir/control/store/storetest"
	"github.com/weirnet/weir/dns"
	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

func dnsService(name, ip string) *corev1.Service {
	return &corev1.Service{TypeMeta: metav1.TypeMeta{Kind: "Service", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: corev1.ServiceSpec{ClusterIP: ip, ClusterIPs: []string{ip},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(8080)}}}}
}

// TestAgentDNS: an agent with --dns-listen serves the cluster zone from the
// node stream over UDP and TCP on loopback: a service present at start,
// one created and one deleted later (each visible well within a second
// of the store write; the latency is logged).
func TestAgentDNS(t *testing.T) {
	cp := startControlPlane(t)
	cp.put(t, "services", "default", "web", dnsService("web", "10.96.0.50"))
	dir := t.TempDir()
	resolv := filepath.Join(dir, "resolv.conf")
	if err := os.WriteFile(resolv, []byte("nameserver 127.0.0.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := New(Config{Server: cp.addr, BootstrapToken: nodeToken, CAPEM: cp.ca.CertPEM, NodeName: "dns-node",
		DataDir: dir, UnderlayIface: "lo", Addresses: []string{"127.0.0.1"},
		CNIConfDir: filepath.Join(dir, "net.d"), AgentSocket: filepath.Join(dir, "agent.sock"),
		Dataplane: nopDataplane{}, Routes: nopRoutes{}, DNSListen: "127.0.0.1:0", DNSResolvConf: resolv,
		Logger: storetest.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); a.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; a.Close() })

	dnsWait(t, "the DNS server ready", 20*time.Second, a.DNSReady)
	addr := a.DNSAddr()
	for _, proto := range []string{"udp", "tcp"} {
		if got := lookupA(addr, proto, "web.default.svc.cluster.local."); got != "10.96.0.50" {
			t.Fatalf("%s: web.default.svc.cluster.local = %q, want 10.96.0.50", proto, got)
		}
	}
	if got := lookupA(addr, "udp", "10-244-3-7.default.pod.cluster.local."); got != "10.244.3.7" {
		t.Fatalf("pod name 10-244-3-7.default.pod = %q", got)
	}
	written := time.Now()
	cp.put(t, "services", "default", "api", dnsService("api", "10.96.0.51"))
	dnsWait(t, "api resolvable", 5*time.Second, func() bool { return lookupA(addr, "udp", "API.default.svc.cluster.local.") == "10.96.0.51" })
	t.Logf("service write -> answered by the agent's DNS: %v", time.Since(written).Round(time.Microsecond))
	cp.del(t, "services", "default", "web")
	dnsWait(t, "web NXDOMAIN", 5*time.Second, func() bool { return lookupA(addr, "tcp", "web.default.svc.cluster.local.") == "NXDOMAIN" })
}

// lookupA returns the first A answer, the rcode name when not NOERROR, or
// the error.
func lookupA(addr, net, name string) string {
	c := &mdns.Client{Net: net, Timeout: 2 * time.Second}
	q := new(mdns.Msg).SetQuestion(name, mdns.TypeA)
	r, _, err := c.Exchange(q, addr)
	switch {
	case err != nil:
		return err.Error()
	case r.Rcode != mdns.RcodeSuccess:
		return mdns.RcodeToString[r.Rcode]
	}
	for _, rr := range r.Answer {
		if a, ok := rr.(*mdns.A); ok {
			return a.A.String()
		}
	}
	return "no A record"
}

func dnsWait(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestDNSFeedWaitsForBothSnapshots: the feed makes the server ready only
// once both the services and the endpoint slices snapshots are held.
func TestDNSFeedWaitsForBothSnapshots(t *testing.T) {
	a := &Agent{state: NewState(), log: slog.New(slog.DiscardHandler)}
	srv, err := dns.NewServer(dns.Config{Logger: a.log})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	d := &nodeDNS{a: a}
	d.srv.Store(srv)
	svcs := []corev1.Service{*dnsService("web", "10.96.0.50")}
	d.Update(svcs, nil, nil)
	a.state.Versions[pb.Kind_KIND_SERVICES] = 3
	d.Update(svcs, nil, nil)
	if srv.Ready() {
		t.Fatal("ready without the endpoint slices snapshot")
	}
	a.state.Versions[pb.Kind_KIND_ENDPOINTSLICES] = 4
	d.Update(svcs, nil, nil)
	if !srv.Ready() || srv.Records() == 0 {
		t.Fatalf("not ready (%v) or empty (%d records) after both snapshots", srv.Ready(), srv.Records())
	}
}

func TestDNSConfig(t *testing.T) {
	for _, c := range []struct{ listen, want string }{
		{"auto", "192.0.2.7:53"}, {"10.0.0.1:5353", "10.0.0.1:5353"}, {"10.0.0.1", "error"}, {"host:53", "error"},
	} {
		got, err := dnsListenAddr(c.listen, []string{"bad", "192.0.2.7"})
		if err != nil {
			got = "error"
		}
		if got != c.want {
			t.Errorf("dnsListenAddr(%q) = %q (%v), want %q", c.listen, got, err, c.want)
		}
	}
	if _, err := dnsListenAddr("auto", nil); err == nil || !strings.Contains(err.Error(), "--dns-listen") {
		t.Errorf("auto without addresses: %v", err)
	}
	nets, err := dnsAllowedNets("10.244.0.0/16", "10.244.1.0/24", "10.96.0.0/12", []string{"192.0.2.7"})
	if err != nil {
		t.Fatal(err)
	}
	for _, ip := range []string{"10.244.9.9", "10.96.0.10", "192.0.2.7"} {
		if !containsAddr(nets, netip.MustParseAddr(ip)) {
			t.Errorf("%s not allowed by %v", ip, nets)
		}
	}
	if containsAddr(nets, netip.MustParseAddr("192.0.2.8")) || containsAddr(nets, netip.MustParseAddr("8.8.8.8")) {
		t.Errorf("allowed nets too wide: %v", nets)
	}
	if _, err := dnsAllowedNets("garbage", "", "", nil); err == nil {
		t.Error("a bad cluster CIDR was accepted")
	}
	base := Config{Server: "x:1", BootstrapToken: nodeToken, CAPEM: []byte("x"), NodeName: "n", UnderlayIface: "lo", Dataplane: nopDataplane{}}
	for _, bad := range []func(*Config){
		func(c *Config) { c.DNSListen = "nope" },
		func(c *Config) { c.DNSUpstreams = []string{"192.0.2.1"} },
		func(c *Config) { c.ServiceCIDR = "10.96.0.0" },
	} {
		c := base
		bad(&c)
		if _, err := c.withDefaults(); err == nil || !strings.Contains(err.Error(), "agent: --") {
			t.Errorf("config %+v accepted or unclear error: %v", c, err)
		}
	}
}

func containsAddr(nets []netip.Prefix, a netip.Addr) bool {
	for _, p := range nets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// TestDNSStartRetries: a listen failure (address in use) leaves the DNS
// server stopped with an error; a later start (the next session) succeeds
// and registers the metrics once.
func TestDNSStartRetries(t *testing.T) {
	busy, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := busy.LocalAddr().String()
	reg := prometheus.NewRegistry()
	a := &Agent{state: NewState(), log: slog.New(slog.DiscardHandler),
		cfg: Config{DNSListen: addr, Addresses: []string{"127.0.0.1"}, ServiceCIDR: "10.96.0.0/12", DNSUpstreams: []string{"127.0.0.1:1"}, Registerer: reg}}
	d := &nodeDNS{a: a}
	a.dns = d
	defer d.close()
	for i := 0; i < 2; i++ {
		if err := d.start("10.244.0.0/16", "10.244.1.0/24"); err == nil || !strings.Contains(err.Error(), "address already in use") {
			t.Fatalf("start %d on a busy address: %v", i, err)
		}
	}
	if a.DNSAddr() != "" || a.DNSReady() {
		t.Fatal("serving after failed starts")
	}
	busy.Close()
	if err := d.start("10.244.0.0/16", "10.244.1.0/24"); err != nil {
		t.Fatalf("start after the address was freed: %v", err)
	}
	if err := d.start("10.244.0.0/16", "10.244.1.0/24"); err != nil || a.DNSAddr() != addr {
		t.Fatalf("second start: %v, addr %q", err, a.DNSAddr())
	}
	if got := lookupA(addr, "udp", "dns-version.cluster.local."); got != "SERVFAIL" {
		t.Fatalf("before any snapshot: %q, want SERVFAIL", got)
	}
	if mfs, err := reg.Gather(); err != nil || len(mfs) == 0 {
		t.Fatalf("metrics: %d families, %v", len(mfs), err)
	}
}
