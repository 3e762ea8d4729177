package dns

import (
	"context"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

// fakeUpstream is a real DNS server on loopback whose behaviour the test
// chooses; it counts the queries it receives.
type fakeUpstream struct {
	addr    string
	queries atomic.Int64
	stop    chan struct{}
}

// startUpstream serves handle over UDP and TCP on 127.0.0.1.
func startUpstream(t testing.TB, handle func(u *fakeUpstream, w mdns.ResponseWriter, r *mdns.Msg)) *fakeUpstream {
	t.Helper()
	udp, tcp, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &fakeUpstream{addr: udp.LocalAddr().String(), stop: make(chan struct{})}
	h := mdns.HandlerFunc(func(w mdns.ResponseWriter, r *mdns.Msg) {
		u.queries.Add(1)
		handle(u, w, r)
	})
	servers := []*mdns.Server{{PacketConn: udp, Handler: h}, {Listener: tcp, Handler: h}}
	var wg sync.WaitGroup
	for _, srv := range servers {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		wg.Go(func() { _ = srv.ActivateAndServe() })
		<-started
	}
	t.Cleanup(func() {
		close(u.stop)
		for _, srv := range servers {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = srv.ShutdownContext(ctx)
			cancel()
		}
		wg.Wait()
	})
	return u
}

// goodUpstream answers like a recursive resolver: A 192.0.2.1 (TTL 300);
// NXDOMAIN with an SOA (minimum 60) under nx.; NODATA without SOA under
// nosoa.; 40 records under big. (truncated over UDP).
func goodUpstream(u *fakeUpstream, w mdns.ResponseWriter, r *mdns.Msg) {
	m := new(mdns.Msg).SetReply(r)
	m.RecursionAvailable = true
	q := r.Question[0]
	name := strings.ToLower(q.Name)
	switch {
	case strings.HasPrefix(name, "nx."):
		m.Rcode = mdns.RcodeNameError
		m.Ns = []mdns.RR{&mdns.SOA{Hdr: hdr("example.", mdns.TypeSOA, 300), Ns: "ns.example.", Mbox: "h.example.", Serial: 1, Minttl: 60}}
	case strings.HasPrefix(name, "nosoa."):
	case strings.HasPrefix(name, "big.") && q.Qtype == mdns.TypeA:
		for i := range 40 {
			m.Answer = append(m.Answer, &mdns.A{Hdr: hdr(q.Name, mdns.TypeA, 300), A: net.IPv4(192, 0, 2, byte(i+1))})
		}
		if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
			m.Answer, m.Truncated = m.Answer[:1], true
		}
	case q.Qtype == mdns.TypeA:
		m.Answer = []mdns.RR{&mdns.A{Hdr: hdr(q.Name, mdns.TypeA, 300), A: net.IPv4(192, 0, 2, 1)}}
	}
	_ = w.WriteMsg(m)
}

func slowUpstream(delay time.Duration) func(*fakeUpstream, mdns.ResponseWriter, *mdns.Msg) {
	return func(u *fakeUpstream, w mdns.ResponseWriter, r *mdns.Msg) {
		select {
		case <-time.After(delay):
			goodUpstream(u, w, r)
		case <-u.stop:
		}
	}
}

func rcodeUpstream(rc int) func(*fakeUpstream, mdns.ResponseWriter, *mdns.Msg) {
	return func(u *fakeUpstream, w mdns.ResponseWriter, r *mdns.Msg) {
		_ = w.WriteMsg(new(mdns.Msg).SetRcode(r, rc))
	}
}

// wrongQuestionUpstream answers a question nobody asked (a spoofing attempt).
func wrongQuestionUpstream(u *fakeUpstream, w mdns.ResponseWriter, r *mdns.Msg) {
	m := new(mdns.Msg).SetReply(r)
	m.Question[0].Name = "evil.example."
	m.Answer = []mdns.RR{&mdns.A{Hdr: hdr("evil.example.", mdns.TypeA, 300), A: net.IPv4(203, 0, 113, 66)}}
	_ = w.WriteMsg(m)
}

// garbageUpstream answers every UDP packet with random bytes.
func garbageUpstream(t testing.TB) string {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, from, err := c.ReadFromUDP(buf)
			if err != nil {
				return
			}
			junk := make([]byte, 1+rand.IntN(64))
			for i := range junk {
				junk[i] = byte(rand.IntN(256))
			}
			if n >= 2 && rand.IntN(2) == 0 {
				copy(junk, buf[:2]) // sometimes even with the right ID
			}
			_, _ = c.WriteToUDP(junk, from)
		}
	}()
	t.Cleanup(func() { _ = c.Close(); <-done })
	return c.LocalAddr().String()
}

// downUpstream is an address where nothing listens (the port was just freed).
func downUpstream(t testing.TB) string {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	addr := c.LocalAddr().String()
	_ = c.Close()
	return addr
}
