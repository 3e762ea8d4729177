package dns

import (
	"context"
	"net/netip"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

// FuzzServeDNS feeds arbitrary packets through the whole query path (the
// one UDP and TCP share): unpacking, validation, the zone, the cache and
// forwarding to a real upstream, EDNS0 and truncation, packing. Whatever
// arrives, the server must not panic, must answer only with a packet that
// parses and echoes the query ID, and its cache must stay bounded.
func FuzzServeDNS(f *testing.F) {
	up := startUpstream(f, goodUpstream)
	s, err := NewServer(Config{Logger: quietLogger(), Upstreams: []string{up.addr}, UpstreamTimeout: time.Second, CacheSize: 256})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = s.Close() })
	c := testCluster()
	big, bigSlice := bigHeadless(60)
	s.Update(append(c.services, big), append(c.slices, bigSlice), c.pods)

	for _, tc := range zoneCases {
		f.Add(mustQuery(f, tc.name, tc.qtype), false)
	}
	for _, name := range []string{"www.example.org.", "nx.example.org.", "big.example.org.", "big.default.svc.cluster.local."} {
		m := new(mdns.Msg)
		m.SetQuestion(name, mdns.TypeA)
		m.SetEdns0(600, true)
		b, _ := m.Pack()
		f.Add(b, false)
		f.Add(b, true)
	}
	f.Add([]byte{}, false)
	f.Add([]byte{0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xff}, false)
	f.Add([]byte{0, 0, 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0}, false)

	src := netip.MustParseAddr("127.0.0.1")
	f.Fuzz(func(t *testing.T, pkt []byte, tcp bool) {
		wire, q := s.serveWire(pkt, src, tcp, nil)
		if q != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			wire = s.forwardWire(ctx, q, nil)
			cancel()
		}
		if wire == nil {
			return
		}
		r := new(mdns.Msg)
		if err := r.Unpack(wire); err != nil {
			t.Fatalf("reply does not parse: %v", err)
		}
		if !r.Response || len(pkt) < 2 || r.Id != uint16(pkt[0])<<8|uint16(pkt[1]) {
			t.Fatalf("reply is not a response to the query:\n%s", r)
		}
		if !tcp && len(wire) > s.cfg.MaxUDPSize {
			t.Fatalf("UDP reply of %d bytes", len(wire))
		}
		if n := s.cache.len(); n > 256 {
			t.Fatalf("cache grew to %d entries", n)
		}
	})
}
