package dns

import (
	"net/netip"
	"testing"

	mdns "github.com/miekg/dns"
)

// BenchmarkServeWire measures the query path without the network: bytes
// in, bytes out, for the common kinds of question.
func BenchmarkServeWire(b *testing.B) {
	up := startUpstream(b, goodUpstream)
	s, err := NewServer(Config{Logger: quietLogger(), Upstreams: []string{up.addr}})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	f := testCluster()
	s.Update(f.services, f.slices, f.pods)
	src := netip.MustParseAddr("127.0.0.1")
	for _, q := range []struct {
		name  string
		qtype uint16
	}{
		{"web.default.svc.cluster.local.", mdns.TypeA},
		{"db.default.svc.cluster.local.", mdns.TypeA},
		{"nosuch.default.svc.cluster.local.", mdns.TypeA},
		{"www.example.org.", mdns.TypeA},
	} {
		pkt := mustQuery(b, q.name, q.qtype)
		out := make([]byte, 0, 4096)
		if _, pending := s.serveWire(pkt, src, false, out); pending != nil {
			s.forwardWire(s.ctx, pending, out) // fill the cache
		}
		b.Run(q.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if wire, pending := s.serveWire(pkt, src, false, out); wire == nil || pending != nil {
					b.Fatal("no reply")
				}
			}
		})
	}
}
