package dns

import (
	"sync"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

func TestForwardAndCache(t *testing.T) {
	up := startUpstream(t, goodUpstream)
	s, addr := startServer(t, Config{Upstreams: []string{up.addr}})
	f := testCluster()
	s.Update(f.services, f.slices, f.pods)

	r := ask(t, addr, "udp", "www.example.org.", mdns.TypeA)
	if r.Rcode != 0 || len(r.Answer) != 1 || r.Authoritative || !r.RecursionAvailable {
		t.Fatalf("forwarded answer: %s", r)
	}
	r = ask(t, addr, "udp", "WWW.example.org.", mdns.TypeA)
	if len(r.Answer) != 1 || up.queries.Load() != 1 {
		t.Fatalf("second ask (other case) went upstream: %d upstream queries", up.queries.Load())
	}
	if hits, misses := counterValue(t, s.m.cacheHit), counterValue(t, s.m.cacheMiss); hits != 1 || misses != 1 {
		t.Fatalf("cache hits %v misses %v, want 1 and 1", hits, misses)
	}

	// RFC 2308: NXDOMAIN with an SOA is cached; without an SOA it is not.
	for range 2 {
		if r := ask(t, addr, "udp", "nx.example.org.", mdns.TypeA); r.Rcode != mdns.RcodeNameError || len(r.Ns) != 1 {
			t.Fatalf("NXDOMAIN: %s", r)
		}
	}
	for range 2 {
		if r := ask(t, addr, "udp", "nosoa.example.org.", mdns.TypeA); r.Rcode != 0 || len(r.Answer) != 0 {
			t.Fatalf("NODATA: %s", r)
		}
	}
	if n := up.queries.Load(); n != 4 {
		t.Fatalf("upstream saw %d queries, want 4 (www once, nx once, nosoa twice)", n)
	}
	// TCP clients are forwarded too; truncated upstream replies are retried over TCP.
	r = ask(t, addr, "tcp", "big.example.org.", mdns.TypeA)
	if r.Truncated || len(r.Answer) != 40 {
		t.Fatalf("big answer over TCP: TC=%v, %d answers", r.Truncated, len(r.Answer))
	}
	// The zone's ExternalName is chased through the upstream.
	r = ask(t, addr, "udp", "ext.default.svc.cluster.local.", mdns.TypeA)
	if got := rrStrings(r.Answer); len(got) != 2 || got[0] != "example.org. 300 IN A 192.0.2.1" ||
		got[1] != "ext.default.svc.cluster.local. 30 IN CNAME example.org." {
		t.Fatalf("ExternalName chase: %q", got)
	}
	// Reverse names the zone does not know are forwarded.
	if r := ask(t, addr, "udp", "9.9.9.10.in-addr.arpa.", mdns.TypePTR); r.Rcode != 0 || r.Authoritative {
		t.Fatalf("foreign PTR: %s", r)
	}
}

func TestFailover(t *testing.T) {
	good := startUpstream(t, goodUpstream)
	for name, first := range map[string]string{
		"down":           downUpstream(t),
		"slow":           startUpstream(t, slowUpstream(time.Minute)).addr,
		"garbage":        garbageUpstream(t),
		"wrong question": startUpstream(t, wrongQuestionUpstream).addr,
		"servfail":       startUpstream(t, rcodeUpstream(mdns.RcodeServerFailure)).addr,
		"refused":        startUpstream(t, rcodeUpstream(mdns.RcodeRefused)).addr,
	} {
		t.Run(name, func(t *testing.T) {
			s, addr := startServer(t, Config{Upstreams: []string{first, good.addr}, UpstreamTimeout: 4 * time.Second})
			s.Update(nil, nil, nil)
			r := ask(t, addr, "udp", name[:1]+".failover.example.", mdns.TypeA)
			if r.Rcode != 0 || len(r.Answer) != 1 || rrStrings(r.Answer)[0] != name[:1]+".failover.example. 300 IN A 192.0.2.1" {
				t.Fatalf("want the good upstream's answer, got %s", r)
			}
		})
	}
}

func TestAllUpstreamsFail(t *testing.T) {
	const timeout = 1500 * time.Millisecond
	slow := startUpstream(t, slowUpstream(time.Minute)).addr
	for name, ups := range map[string][]string{
		"down":         {downUpstream(t)},
		"slow":         {slow},
		"garbage":      {garbageUpstream(t)},
		"slow+garbage": {slow, garbageUpstream(t)},
		"servfail":     {startUpstream(t, rcodeUpstream(mdns.RcodeServerFailure)).addr},
	} {
		t.Run(name, func(t *testing.T) {
			s, addr := startServer(t, Config{Upstreams: ups, UpstreamTimeout: timeout})
			f := testCluster()
			s.Update(f.services, f.slices, f.pods)
			var wg sync.WaitGroup
			var fwd *mdns.Msg
			var took time.Duration
			wg.Go(func() {
				start := time.Now()
				m := new(mdns.Msg)
				m.SetQuestion("www.example.org.", mdns.TypeA)
				c := &mdns.Client{Timeout: 10 * time.Second}
				fwd, _, _ = c.Exchange(m, addr)
				took = time.Since(start)
			})
			// The zone keeps answering while the forward is stuck.
			time.Sleep(50 * time.Millisecond)
			for range 20 {
				if r := ask(t, addr, "udp", "web.default.svc.cluster.local.", mdns.TypeA); r.Rcode != 0 {
					t.Fatalf("zone answer during a failing forward: %s", r)
				}
			}
			wg.Wait()
			if fwd == nil || fwd.Rcode != mdns.RcodeServerFailure {
				t.Fatalf("want SERVFAIL, got %v", fwd)
			}
			if took > timeout+time.Second {
				t.Fatalf("SERVFAIL after %s; the upstream timeout is %s", took, timeout)
			}
		})
	}
}

func TestConcurrentQuestionsShareOneExchange(t *testing.T) {
	up := startUpstream(t, slowUpstream(200*time.Millisecond))
	s, addr := startServer(t, Config{Upstreams: []string{up.addr}})
	s.Update(nil, nil, nil)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			m := new(mdns.Msg)
			m.SetQuestion("shared.example.", mdns.TypeA)
			c := &mdns.Client{Timeout: 10 * time.Second}
			if r, _, err := c.Exchange(m, addr); err != nil || r.Rcode != 0 || len(r.Answer) != 1 {
				t.Errorf("got %v, %v", r, err)
			}
		})
	}
	wg.Wait()
	if n := up.queries.Load(); n != 1 {
		t.Fatalf("upstream saw %d queries for one name, want 1", n)
	}
}
