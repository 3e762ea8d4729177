package dns

import (
	"errors"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"time"

	mdns "github.com/miekg/dns"
)

// serveUDP starts one reader per CPU on conn. Readers answer zone and
// cached questions inline, reusing their buffers; questions that need the
// upstreams continue in their own goroutine (at most Config.MaxForwards at
// once) so a slow upstream never stalls the zone.
func (s *Server) serveUDP(wg *sync.WaitGroup, conn *net.UDPConn) error {
	pi := false
	if la, ok := conn.LocalAddr().(*net.UDPAddr); ok && la.IP.IsUnspecified() {
		if err := enablePktinfo(conn); err != nil {
			return err
		}
		pi = true
	}
	for range max(2, runtime.GOMAXPROCS(0)) {
		wg.Go(func() { s.udpReader(wg, conn, pi) })
	}
	return nil
}

func (s *Server) udpReader(wg *sync.WaitGroup, conn *net.UDPConn, pi bool) {
	buf := make([]byte, mdns.MaxMsgSize)
	out := make([]byte, mdns.MaxMsgSize)
	var oob []byte
	if pi {
		oob = make([]byte, 256)
	}
	for {
		n, oobn, _, src, err := conn.ReadMsgUDPAddrPort(buf, oob)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || s.ctx.Err() != nil {
				return
			}
			time.Sleep(time.Millisecond) // e.g. a queued ICMP error; keep serving
			continue
		}
		var replyOOB []byte
		if pi {
			replyOOB = replyPktinfo(oob[:oobn])
		}
		wire, q := s.serveWire(buf[:n], src.Addr().Unmap(), false, out)
		if q != nil {
			s.forwardUDP(wg, conn, q, src, replyOOB, out)
			continue
		}
		if wire != nil {
			_, _, _ = conn.WriteMsgUDPAddrPort(wire, replyOOB, src)
		}
	}
}

func (s *Server) forwardUDP(wg *sync.WaitGroup, conn *net.UDPConn, q *query, src netip.AddrPort, oob []byte, out []byte) {
	select {
	case s.fwdSem <- struct{}{}:
	default:
		if wire := s.refuseWire(q, out); wire != nil {
			_, _, _ = conn.WriteMsgUDPAddrPort(wire, oob, src)
		}
		return
	}
	wg.Go(func() {
		defer func() { <-s.fwdSem }()
		if wire := s.forwardWire(s.ctx, q, nil); wire != nil {
			_, _, _ = conn.WriteMsgUDPAddrPort(wire, oob, src)
		}
	})
}
