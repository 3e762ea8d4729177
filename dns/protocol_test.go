package dns

import (
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// rawExchange sends pkt over UDP and returns the reply, or nil when none
// arrives within wait.
func rawExchange(t *testing.T, addr string, pkt []byte, wait time.Duration) []byte {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(pkt); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 65535)
	n, err := c.Read(buf)
	if err != nil {
		return nil
	}
	return buf[:n]
}

func TestProtocolErrors(t *testing.T) {
	s, addr := startServer(t, Config{})
	f := testCluster()
	s.Update(f.services, f.slices, f.pods)

	two := new(mdns.Msg)
	two.SetQuestion("web.default.svc.cluster.local.", mdns.TypeA)
	two.Question = append(two.Question, two.Question[0])
	notify := new(mdns.Msg)
	notify.SetQuestion("web.default.svc.cluster.local.", mdns.TypeA)
	notify.Opcode = mdns.OpcodeUpdate
	badvers := new(mdns.Msg)
	badvers.SetQuestion("web.default.svc.cluster.local.", mdns.TypeA)
	badvers.SetEdns0(1232, false)
	badvers.IsEdns0().SetVersion(1)
	chaos := new(mdns.Msg)
	chaos.SetQuestion("version.bind.", mdns.TypeTXT)
	chaos.Question[0].Qclass = mdns.ClassCHAOS
	noQuestion := new(mdns.Msg)
	noQuestion.Id = 7
	for _, tc := range []struct {
		name  string
		m     *mdns.Msg
		rcode int
	}{
		{"two questions", two, mdns.RcodeFormatError},
		{"no question", noQuestion, mdns.RcodeFormatError},
		{"opcode update", notify, mdns.RcodeNotImplemented},
		{"edns version 1", badvers, mdns.RcodeBadVers},
		{"class chaos", chaos, mdns.RcodeRefused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pkt, err := tc.m.Pack()
			if err != nil {
				t.Fatal(err)
			}
			out := rawExchange(t, addr, pkt, 5*time.Second)
			r := new(mdns.Msg)
			if err := r.Unpack(out); err != nil {
				t.Fatalf("reply does not parse: %v", err)
			}
			if r.Rcode != tc.rcode || r.Id != tc.m.Id || !r.Response {
				t.Fatalf("rcode %s id %d, want %s id %d:\n%s", mdns.RcodeToString[r.Rcode], r.Id, mdns.RcodeToString[tc.rcode], tc.m.Id, r)
			}
		})
	}
	t.Run("garbage after header gets FORMERR", func(t *testing.T) {
		pkt := []byte{0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff}
		r := new(mdns.Msg)
		if err := r.Unpack(rawExchange(t, addr, pkt, 5*time.Second)); err != nil {
			t.Fatal(err)
		}
		if r.Id != 0x1234 || r.Rcode != mdns.RcodeFormatError {
			t.Fatalf("got %s", r)
		}
	})
	for name, pkt := range map[string][]byte{
		"short packet": {1, 2, 3},
		"a response":   mustPack(t, (&mdns.Msg{MsgHdr: mdns.MsgHdr{Response: true}}).SetQuestion("x.", mdns.TypeA)),
	} {
		t.Run(name+" gets no reply", func(t *testing.T) {
			if out := rawExchange(t, addr, pkt, 300*time.Millisecond); out != nil {
				t.Fatalf("unexpected reply %x", out)
			}
			// The server still answers afterwards.
			if r := ask(t, addr, "udp", "web.default.svc.cluster.local.", mdns.TypeA); r.Rcode != 0 {
				t.Fatal(r)
			}
		})
	}
}

func mustPack(t *testing.T, m *mdns.Msg) []byte {
	t.Helper()
	m.Response = true
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestServfailUntilFirstUpdate(t *testing.T) {
	s, addr := startServer(t, Config{})
	for _, q := range []struct {
		name  string
		qtype uint16
	}{{"web.default.svc.cluster.local.", mdns.TypeA}, {"1.0.96.10.in-addr.arpa.", mdns.TypePTR}} {
		if r := ask(t, addr, "udp", q.name, q.qtype); r.Rcode != mdns.RcodeServerFailure {
			t.Fatalf("before the first snapshot: %s, want SERVFAIL", mdns.RcodeToString[r.Rcode])
		}
	}
	if err := s.Apply(Delta{}); err != ErrNotReady {
		t.Fatalf("Apply before Update: %v, want ErrNotReady", err)
	}
	if s.Ready() {
		t.Fatal("ready before Update")
	}
	f := testCluster()
	s.Update(f.services, f.slices, f.pods)
	if r := ask(t, addr, "udp", "web.default.svc.cluster.local.", mdns.TypeA); r.Rcode != 0 || len(r.Answer) != 1 {
		t.Fatalf("after Update: %s", r)
	}
	// An empty snapshot is still a snapshot: the zone answers NXDOMAIN.
	s.Update(nil, nil, nil)
	if r := ask(t, addr, "udp", "web.default.svc.cluster.local.", mdns.TypeA); r.Rcode != mdns.RcodeNameError {
		t.Fatalf("after empty Update: %s", r)
	}
}

// bigHeadless is a headless service whose A answer does not fit 512 bytes.
func bigHeadless(n int) (corev1.Service, discoveryv1.EndpointSlice) {
	svc := headlessSvc("default", "big", false, svcPort("p", corev1.ProtocolTCP, 80))
	var eps []ep
	for i := range n {
		eps = append(eps, ep{fmt.Sprintf("10.250.%d.%d", i/250, i%250+1), "", true})
	}
	return svc, epSlice("default", "big-1", "big", discoveryv1.AddressTypeIPv4, nil, eps...)
}

func TestTruncationAndEDNS(t *testing.T) {
	s, addr := startServer(t, Config{MaxUDPSize: 4096})
	svc, sl := bigHeadless(100) // 100 A records: ~1.7 KB uncompressed
	s.Update([]corev1.Service{svc}, []discoveryv1.EndpointSlice{sl}, nil)
	name := "big.default.svc.cluster.local."

	plain := ask(t, addr, "udp", name, mdns.TypeA)
	if !plain.Truncated || len(plain.Answer) >= 100 {
		t.Fatalf("UDP without EDNS0: TC=%v with %d answers, want truncated", plain.Truncated, len(plain.Answer))
	}
	plain.Compress = true // measure the reply as it was sent
	if n := plain.Len(); n > 512 {
		t.Fatalf("UDP reply of %d bytes exceeds 512 without EDNS0", n)
	}
	for _, tc := range []struct {
		bufsize uint16
		full    bool
	}{{512, false}, {1232, false}, {4096, true}, {65000, true}} {
		m := new(mdns.Msg)
		m.SetQuestion(name, mdns.TypeA)
		m.SetEdns0(tc.bufsize, false)
		r := exchange(t, addr, "udp", m)
		if r.IsEdns0() == nil {
			t.Fatalf("bufsize %d: reply lacks OPT", tc.bufsize)
		}
		r.Compress = true
		if got := r.Len(); got > int(max(tc.bufsize, 512)) {
			t.Fatalf("bufsize %d: reply of %d bytes", tc.bufsize, got)
		}
		if full := !r.Truncated && len(r.Answer) == 100; full != tc.full {
			t.Fatalf("bufsize %d: TC=%v answers=%d, want full=%v", tc.bufsize, r.Truncated, len(r.Answer), tc.full)
		}
	}
	// TCP carries everything; a client retries there after TC.
	r := ask(t, addr, "tcp", name, mdns.TypeA)
	if r.Truncated || len(r.Answer) != 100 {
		t.Fatalf("TCP: TC=%v answers=%d", r.Truncated, len(r.Answer))
	}
}

func TestSourceFiltering(t *testing.T) {
	s, err := NewServer(Config{Logger: quietLogger(), AllowedNets: []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16")}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	f := testCluster()
	s.Update(f.services, f.slices, f.pods)
	pkt := mustQuery(t, "web.default.svc.cluster.local.", mdns.TypeA)
	for src, want := range map[string]int{
		"127.0.0.1":          mdns.RcodeSuccess,
		"::1":                mdns.RcodeSuccess,
		"10.244.3.4":         mdns.RcodeSuccess,
		"::ffff:10.244.3.4":  mdns.RcodeSuccess,
		"10.245.0.1":         mdns.RcodeRefused,
		"192.0.2.1":          mdns.RcodeRefused,
		"2001:db8::1":        mdns.RcodeRefused,
		"::ffff:192.0.2.200": mdns.RcodeRefused,
	} {
		wire, q := s.serveWire(pkt, netip.MustParseAddr(src), false, nil)
		r := new(mdns.Msg)
		if q != nil || r.Unpack(wire) != nil || r.Rcode != want {
			t.Errorf("from %s: got %v, want %s", src, r, mdns.RcodeToString[want])
		}
	}
}

func mustQuery(t testing.TB, name string, qtype uint16) []byte {
	t.Helper()
	m := new(mdns.Msg)
	m.SetQuestion(name, qtype)
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
