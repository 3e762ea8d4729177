package dns

import (
	"fmt"
	"net"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

func aRR(name string, ttl uint32) mdns.RR {
	return &mdns.A{Hdr: hdr(name, mdns.TypeA, ttl), A: net.IPv4(192, 0, 2, 1)}
}

func soaRR(ttl, minttl uint32) mdns.RR {
	return &mdns.SOA{Hdr: hdr("example.", mdns.TypeSOA, ttl), Ns: "ns.example.", Mbox: "h.example.", Minttl: minttl}
}

func TestCacheTTL(t *testing.T) {
	const maxPos, maxNeg = time.Hour, 30 * time.Minute
	for _, tc := range []struct {
		name string
		m    *mdns.Msg
		want time.Duration
	}{
		{"smallest answer TTL", &mdns.Msg{Answer: []mdns.RR{aRR("a.", 300), aRR("a.", 60)}}, 60 * time.Second},
		{"capped", &mdns.Msg{Answer: []mdns.RR{aRR("a.", 86400)}}, maxPos},
		{"zero TTL not cached", &mdns.Msg{Answer: []mdns.RR{aRR("a.", 0)}}, 0},
		{"NXDOMAIN: SOA minimum", &mdns.Msg{MsgHdr: mdns.MsgHdr{Rcode: mdns.RcodeNameError}, Ns: []mdns.RR{soaRR(3600, 120)}}, 120 * time.Second},
		{"NXDOMAIN: SOA TTL below minimum", &mdns.Msg{MsgHdr: mdns.MsgHdr{Rcode: mdns.RcodeNameError}, Ns: []mdns.RR{soaRR(10, 120)}}, 10 * time.Second},
		{"NXDOMAIN capped", &mdns.Msg{MsgHdr: mdns.MsgHdr{Rcode: mdns.RcodeNameError}, Ns: []mdns.RR{soaRR(86400, 86400)}}, maxNeg},
		{"NODATA with SOA", &mdns.Msg{Ns: []mdns.RR{soaRR(300, 300)}}, 300 * time.Second},
		{"negative without SOA", &mdns.Msg{MsgHdr: mdns.MsgHdr{Rcode: mdns.RcodeNameError}}, 0},
		{"CNAME then NXDOMAIN", &mdns.Msg{MsgHdr: mdns.MsgHdr{Rcode: mdns.RcodeNameError},
			Answer: []mdns.RR{&mdns.CNAME{Hdr: hdr("a.", mdns.TypeCNAME, 30), Target: "b."}}, Ns: []mdns.RR{soaRR(300, 300)}}, 30 * time.Second},
		{"SERVFAIL", &mdns.Msg{MsgHdr: mdns.MsgHdr{Rcode: mdns.RcodeServerFailure}}, 0},
		{"truncated", &mdns.Msg{MsgHdr: mdns.MsgHdr{Truncated: true}, Answer: []mdns.RR{aRR("a.", 300)}}, 0},
	} {
		if got := cacheTTL(tc.m, maxPos, maxNeg); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestCacheAgesAndExpires(t *testing.T) {
	c := newCache(100)
	now := time.Unix(1000, 0)
	k := cacheKey{name: "a.", qtype: mdns.TypeA}
	c.put(k, answer{ans: []mdns.RR{aRR("a.", 300)}}, 300*time.Second, now)
	for _, tc := range []struct {
		after time.Duration
		ttl   uint32
		ok    bool
	}{{0, 300, true}, {1500 * time.Millisecond, 299, true}, {299 * time.Second, 1, true}, {300 * time.Second, 0, false}} {
		a, ok := c.get(k, now.Add(tc.after))
		if ok != tc.ok {
			t.Fatalf("after %s: hit=%v, want %v", tc.after, ok, tc.ok)
		}
		if ok && a.ans[0].Header().Ttl != tc.ttl {
			t.Fatalf("after %s: TTL %d, want %d", tc.after, a.ans[0].Header().Ttl, tc.ttl)
		}
	}
	if c.len() != 0 {
		t.Fatalf("expired entry still cached")
	}
}

func TestCacheIsBounded(t *testing.T) {
	c := newCache(64)
	now := time.Unix(1000, 0)
	for i := range 10000 {
		k := cacheKey{name: fmt.Sprintf("n%d.example.", i), qtype: mdns.TypeA}
		c.put(k, answer{ans: []mdns.RR{aRR(k.name, 300)}}, time.Minute, now)
	}
	if n := c.len(); n > 64 || n < 32 {
		t.Fatalf("cache holds %d entries, want about 64", n)
	}
}
