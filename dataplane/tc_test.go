package dataplane

import (
	"bytes"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/weirnet/weir/tests/testutil"
)

const (
	actOK     = 0
	actShot   = 2
	actUnspec = 0xffffffff
)

var (
	client    = netip.MustParseAddr("192.168.1.100")
	webVIP    = netip.AddrPortFrom(vip, 80)
	backends3 = []netip.AddrPort{
		netip.MustParseAddrPort("10.200.1.2:8080"),
		netip.MustParseAddrPort("10.200.2.2:8080"),
		netip.MustParseAddrPort("10.200.3.2:8080"),
	}
)

// tcManager is a Manager with the per-packet path attached to a veth
// interface in a throwaway namespace, so its tc programs and Maglev tables
// exist; packets are then fed to the programs with prog.Run.
func tcManager(t *testing.T, svcs ...Service) *Manager {
	t.Helper()
	ns := testutil.NewNetns(t, "t")
	ns.Run(t, "ip", "link", "add", "wd0", "type", "veth", "peer", "name", "wd1")
	m := newTestManager(t, Config{
		CgroupPath: testutil.NewCgroup(t, "tc"), Netns: ns.Name, Interfaces: []string{"wd0"},
		NodeIPs: []netip.Addr{netip.MustParseAddr("192.168.50.1")}, MaglevTableSize: 251,
	})
	mustSync(t, m, svcs...)
	return m
}

func service(name string, proto Protocol, front netip.AddrPort, bes ...netip.AddrPort) Service {
	s := Service{Namespace: "default", Name: name, PortName: "p", Protocol: proto, Port: front.Port(),
		ClusterIPs: []netip.Addr{front.Addr()}}
	for _, b := range bes {
		s.Backends = append(s.Backends, Backend{Addr: b.Addr(), Port: b.Port()})
	}
	return s
}

func run(t *testing.T, prog *ebpf.Program, f frame) (uint32, parsed, []byte) {
	t.Helper()
	in := f.bytes()
	out := make([]byte, len(in)+64)
	ret, err := prog.Run(&ebpf.RunOptions{Data: in, DataOut: out})
	if err != nil {
		t.Fatalf("prog.Run: %v", err)
	}
	out = out[:len(in)]
	p, err := parseFrame(out)
	if err != nil {
		t.Fatalf("output frame: %v", err)
	}
	return ret, p, out
}

func (m *Manager) prog(name string) *ebpf.Program { return m.coll.Programs[name] }

func TestTCForwardAndReply(t *testing.T) {
	m := tcManager(t, service("web", TCP, webVIP, backends3...))
	cli := netip.AddrPortFrom(client, 40000)
	ret, p, _ := run(t, m.prog(lbProgTcIngress), frame{src: cli, dst: webVIP, proto: TCP, tcpFlags: tcSyn})
	if ret != actOK {
		t.Fatalf("SYN verdict %d, want TC_ACT_OK (no route in the test namespace)", ret)
	}
	if p.src != cli || !contains(backends3, p.dst) {
		t.Fatalf("SYN rewritten to %s -> %s, want %s -> one of %v", p.src, p.dst, cli, backends3)
	}
	be := p.dst
	for i := 0; i < 5; i++ {
		_, p, _ = run(t, m.prog(lbProgTcIngress), frame{src: cli, dst: webVIP, proto: TCP, tcpFlags: tcAck, payload: []byte("GET /\n")})
		if p.dst != be {
			t.Fatalf("packet %d of the flow went to %s, the flow's backend is %s", i, p.dst, be)
		}
	}
	for _, name := range []string{lbProgTcEgress, lbProgTcIngress} {
		ret, p, _ = run(t, m.prog(name), frame{src: be, dst: cli, proto: TCP, tcpFlags: tcAck, payload: []byte("200 OK\n")})
		if ret != actOK || p.src != webVIP || p.dst != cli {
			t.Errorf("%s: reply %d %s -> %s, want TC_ACT_OK %s -> %s", name, ret, p.src, p.dst, webVIP, cli)
		}
	}
}

func TestTCPassThroughAndNoBackend(t *testing.T) {
	empty := netip.MustParseAddrPort("10.96.0.12:80")
	m := tcManager(t, service("web", TCP, webVIP, backends3...), service("empty", TCP, empty))
	f := frame{src: netip.AddrPortFrom(client, 40001), dst: netip.MustParseAddrPort("10.1.2.3:80"), proto: TCP, tcpFlags: tcSyn}
	ret, _, out := run(t, m.prog(lbProgTcIngress), f)
	if ret != actUnspec || !bytes.Equal(out, f.bytes()) {
		t.Errorf("packet to a non-service: verdict %d (changed: %v), want TC_ACT_UNSPEC and untouched", int32(ret), !bytes.Equal(out, f.bytes()))
	}
	f.dst = netip.AddrPortFrom(vip, 81)
	if ret, _, _ := run(t, m.prog(lbProgTcIngress), f); ret != actUnspec {
		t.Errorf("packet to the VIP on another port: verdict %d, want TC_ACT_UNSPEC", int32(ret))
	}
	f.dst = empty
	if ret, _, _ := run(t, m.prog(lbProgTcIngress), f); ret != actShot {
		t.Errorf("packet to a service without backends: verdict %d, want TC_ACT_SHOT", int32(ret))
	}
}

func TestTCUDPAndIPv6(t *testing.T) {
	dns := netip.MustParseAddrPort("10.96.0.11:53")
	dnsBE := netip.MustParseAddrPort("10.200.1.2:5353")
	v6 := netip.MustParseAddrPort("[fd00:96::10]:80")
	v6BE := netip.MustParseAddrPort("[fd00:200:1::2]:8080")
	m := tcManager(t, service("dns", UDP, dns, dnsBE), service("web6", TCP, v6, v6BE))
	in := m.prog(lbProgTcIngress)

	cli := netip.AddrPortFrom(client, 5000)
	for _, zero := range []bool{false, true} {
		_, p, _ := run(t, in, frame{src: cli, dst: dns, proto: UDP, payload: []byte("query"), zeroUDPChecksum: zero})
		if p.dst != dnsBE || (zero && p.l4csum != 0) {
			t.Errorf("UDP (zero checksum %v): %s checksum %#x, want %s and checksum kept zero", zero, p.dst, p.l4csum, dnsBE)
		}
		_, p, _ = run(t, m.prog(lbProgTcEgress), frame{src: dnsBE, dst: cli, proto: UDP, payload: []byte("answer"), zeroUDPChecksum: zero})
		if p.src != dns {
			t.Errorf("UDP reply from %s, want %s", p.src, dns)
		}
	}
	cli6 := netip.MustParseAddrPort("[fd00:1::100]:40000")
	_, p, _ := run(t, in, frame{src: cli6, dst: v6, proto: TCP, tcpFlags: tcSyn})
	if p.dst != v6BE {
		t.Errorf("IPv6 SYN to %s, want %s", p.dst, v6BE)
	}
	_, p, _ = run(t, m.prog(lbProgTcEgress), frame{src: v6BE, dst: cli6, proto: TCP, tcpFlags: tcAck})
	if p.src != v6 || p.dst != cli6 {
		t.Errorf("IPv6 reply %s -> %s, want %s -> %s", p.src, p.dst, v6, cli6)
	}
}

func contains(l []netip.AddrPort, a netip.AddrPort) bool {
	for _, x := range l {
		if x == a {
			return true
		}
	}
	return false
}

func flowSrc(i int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{172, 16, byte(i >> 8), byte(i)}), uint16(1024+i*7))
}

// TestTCMaglev: two nodes with different local ids pick the same backend
// for the same flow, every backend gets flows, and removing one backend
// moves few of the flows that were not on it.
func TestTCMaglev(t *testing.T) {
	bes := []netip.AddrPort{}
	for i := 1; i <= 5; i++ {
		bes = append(bes, netip.MustParseAddrPort(fmt.Sprintf("10.200.%d.2:8080", i)))
	}
	web := service("web", TCP, webVIP, bes...)
	var others []Service
	for i := 0; i < 7; i++ { // shift node B's ids
		others = append(others, service(fmt.Sprintf("a%d", i), TCP, netip.MustParseAddrPort(fmt.Sprintf("10.97.0.%d:80", i+1)), bes[i%5]))
	}
	nodeA := tcManager(t, web)
	nodeB := tcManager(t, append(others, web)...)
	fewer := service("web", TCP, webVIP, bes[:4]...)
	nodeC := tcManager(t, fewer)

	const flows = 400
	perBackend := map[netip.AddrPort]int{}
	kept, movable := 0, 0
	for i := 0; i < flows; i++ {
		f := frame{src: flowSrc(i), dst: webVIP, proto: TCP, tcpFlags: tcSyn}
		_, a, _ := run(t, nodeA.prog(lbProgTcIngress), f)
		_, b, _ := run(t, nodeB.prog(lbProgTcIngress), f)
		_, c, _ := run(t, nodeC.prog(lbProgTcIngress), f)
		if a.dst != b.dst {
			t.Fatalf("flow %d: node A chose %s, node B %s", i, a.dst, b.dst)
		}
		perBackend[a.dst]++
		if a.dst != bes[4] {
			movable++
			if c.dst == a.dst {
				kept++
			}
		}
	}
	t.Logf("flows per backend %v; after removing %s, %d of %d other flows kept their backend", perBackend, bes[4], kept, movable)
	if len(perBackend) != 5 {
		t.Errorf("flows reached %d of 5 backends: %v", len(perBackend), perBackend)
	}
	if kept < movable*9/10 {
		t.Errorf("removing one backend moved %d of %d flows that were not on it", movable-kept, movable)
	}
}

// TestTCAffinity: with ClientIP affinity every flow of one client goes to
// the same backend on the per-packet path.
func TestTCAffinity(t *testing.T) {
	web := service("web", TCP, webVIP, backends3...)
	web.AffinityTimeout = time.Minute
	m := tcManager(t, web)
	perClient := map[netip.Addr]map[netip.AddrPort]bool{}
	for i := 0; i < 60; i++ {
		cl := netip.AddrFrom4([4]byte{172, 16, 0, byte(1 + i%3)})
		_, p, _ := run(t, m.prog(lbProgTcIngress), frame{src: netip.AddrPortFrom(cl, uint16(20000+i)), dst: webVIP, proto: TCP, tcpFlags: tcSyn})
		if perClient[cl] == nil {
			perClient[cl] = map[netip.AddrPort]bool{}
		}
		perClient[cl][p.dst] = true
	}
	for cl, bes := range perClient {
		if len(bes) != 1 {
			t.Errorf("client %s: 20 flows went to %d backends, want 1", cl, len(bes))
		}
	}
}
