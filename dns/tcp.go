package dns

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"
)

const (
	maxTCPConns    = 512
	tcpIdleTimeout = 10 * time.Second
	tcpMsgTimeout  = 5 * time.Second
)

// serveTCP accepts connections until l is closed, then closes the
// connections it accepted. Each connection answers its queries in order.
func (s *Server) serveTCP(wg *sync.WaitGroup, l net.Listener) error {
	var mu sync.Mutex
	conns := map[net.Conn]struct{}{}
	defer func() {
		mu.Lock()
		for c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
	}()
	for {
		c, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		mu.Lock()
		if len(conns) >= maxTCPConns {
			mu.Unlock()
			_ = c.Close()
			continue
		}
		conns[c] = struct{}{}
		mu.Unlock()
		wg.Go(func() {
			s.tcpConn(c)
			mu.Lock()
			delete(conns, c)
			mu.Unlock()
			_ = c.Close()
		})
	}
}

func (s *Server) tcpConn(c net.Conn) {
	src := addrOf(c.RemoteAddr())
	var lenBuf [2]byte
	for s.ctx.Err() == nil {
		_ = c.SetReadDeadline(time.Now().Add(tcpIdleTimeout))
		if _, err := io.ReadFull(c, lenBuf[:]); err != nil {
			return
		}
		_ = c.SetReadDeadline(time.Now().Add(tcpMsgTimeout))
		pkt := make([]byte, binary.BigEndian.Uint16(lenBuf[:]))
		if _, err := io.ReadFull(c, pkt); err != nil {
			return
		}
		wire, q := s.serveWire(pkt, src, true, nil)
		if q != nil {
			wire = s.forwardWire(s.ctx, q, nil)
		}
		if wire == nil {
			return // garbage: drop the connection
		}
		out := make([]byte, 2+len(wire))
		binary.BigEndian.PutUint16(out, uint16(len(wire)))
		copy(out[2:], wire)
		_ = c.SetWriteDeadline(time.Now().Add(tcpMsgTimeout))
		if _, err := c.Write(out); err != nil {
			return
		}
	}
}

func addrOf(a net.Addr) netip.Addr {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.AddrPort().Addr().Unmap()
	case *net.UDPAddr:
		return a.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}
