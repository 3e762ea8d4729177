package dns

import (
	"context"
	"errors"
	"net"
	"runtime"
	"strings"
	"sync"
	"time"

	mdns "github.com/miekg/dns"
)

// echoResponder is the I/O ceiling: it answers every UDP packet with the
// packet itself, QR bit set, using the same Go socket calls and reader
// count as the DNS server but no DNS work at all.
type echoResponder struct {
	conn *net.UDPConn
	wg   sync.WaitGroup
}

func startEcho() (*echoResponder, error) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	e := &echoResponder{conn: c}
	for range max(2, runtime.GOMAXPROCS(0)) {
		e.wg.Go(e.loop)
	}
	return e, nil
}

func (e *echoResponder) loop() {
	buf := make([]byte, 65535)
	for {
		n, _, _, src, err := e.conn.ReadMsgUDPAddrPort(buf, nil)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if n >= 12 {
			buf[2] |= 0x80
			_, _, _ = e.conn.WriteMsgUDPAddrPort(buf[:n], nil, src)
		}
	}
}

func (e *echoResponder) addr() string { return e.conn.LocalAddr().String() }

func (e *echoResponder) Close() { _ = e.conn.Close(); e.wg.Wait() }

// upstream is the resolver behind the cluster DNS in the benchmark: A
// records for every name and NODATA with an SOA for other types, all
// cacheable for an hour.
type upstream struct {
	srv *mdns.Server
	wg  sync.WaitGroup
}

func startUpstream() (*upstream, error) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	u := &upstream{srv: &mdns.Server{PacketConn: c, Handler: mdns.HandlerFunc(answerUpstream)}}
	started := make(chan struct{})
	u.srv.NotifyStartedFunc = func() { close(started) }
	u.wg.Go(func() { _ = u.srv.ActivateAndServe() })
	<-started
	return u, nil
}

func answerUpstream(w mdns.ResponseWriter, r *mdns.Msg) {
	m := new(mdns.Msg).SetReply(r)
	q := r.Question[0]
	h := mdns.RR_Header{Name: q.Name, Class: mdns.ClassINET, Ttl: 3600}
	switch {
	case q.Qtype == mdns.TypeA && strings.HasSuffix(strings.ToLower(q.Name), "example.com."):
		h.Rrtype = mdns.TypeA
		m.Answer = []mdns.RR{&mdns.A{Hdr: h, A: net.IPv4(192, 0, 2, 7)}}
	default:
		h.Name, h.Rrtype = "example.com.", mdns.TypeSOA
		m.Ns = []mdns.RR{&mdns.SOA{Hdr: h, Ns: "ns.example.com.", Mbox: "h.example.com.", Serial: 1, Minttl: 3600}}
		if !strings.HasSuffix(strings.ToLower(q.Name), "example.com.") {
			m.Rcode = mdns.RcodeNameError
		}
	}
	_ = w.WriteMsg(m)
}

func (u *upstream) addr() string { return u.srv.PacketConn.LocalAddr().String() }

func (u *upstream) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = u.srv.ShutdownContext(ctx)
	u.wg.Wait()
}
