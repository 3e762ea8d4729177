package dns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
)

// ErrClosed is returned by Serve and ListenAndServe on a closed server.
var ErrClosed = errors.New("dns: server closed")

// ListenAndServe listens on addr ("ip:port") over UDP and TCP and serves
// until ctx ends or the server is closed.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	udp, tcp, err := Listen(addr)
	if err != nil {
		return err
	}
	return s.Serve(ctx, udp, tcp)
}

// Serve answers queries arriving on udp and tcp (either may be nil) until
// ctx ends or the server is closed; then it closes both and returns once
// every goroutine it started has ended. It returns nil on such a stop, or
// the error that made a listener fail.
func (s *Server) Serve(ctx context.Context, udp *net.UDPConn, tcp net.Listener) error {
	if udp == nil && tcp == nil {
		return errors.New("dns: Serve needs a UDP socket or a TCP listener")
	}
	if !s.enter() {
		closeAll(udp, tcp)
		return ErrClosed
	}
	defer s.wg.Done()
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	if udp != nil {
		s.track(udp)
		defer s.untrack(udp)
		if err := s.serveUDP(&wg, udp); err != nil {
			closeAll(udp, tcp)
			return err
		}
	}
	if tcp != nil {
		s.track(tcp)
		defer s.untrack(tcp)
		wg.Go(func() { errc <- s.serveTCP(&wg, tcp) })
	}
	var err error
	select {
	case <-ctx.Done():
	case <-s.ctx.Done():
	case err = <-errc:
	}
	closeAll(udp, tcp)
	wg.Wait()
	return err
}

// enter counts one running Serve; it reports false once Close has begun.
func (s *Server) enter() bool {
	s.lmu.Lock()
	defer s.lmu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

func closeAll(udp *net.UDPConn, tcp net.Listener) {
	if udp != nil {
		_ = udp.Close()
	}
	if tcp != nil {
		_ = tcp.Close()
	}
}

// Listen opens a UDP socket and a TCP listener on the same address. With
// port 0 it picks a port free for both.
func Listen(addr string) (*net.UDPConn, *net.TCPListener, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("dns: listen address %q: want ip:port: %w", addr, err)
	}
	var lastErr error
	for range 20 {
		udp, err := net.ListenUDP("udp", ua)
		if err != nil {
			return nil, nil, fmt.Errorf("dns: listen udp %s: %w", addr, err)
		}
		bound := udp.LocalAddr().(*net.UDPAddr)
		tcp, err := net.ListenTCP("tcp", &net.TCPAddr{IP: bound.IP, Port: bound.Port, Zone: bound.Zone})
		if err == nil {
			return udp, tcp, nil
		}
		_ = udp.Close()
		lastErr = err
		if ua.Port != 0 {
			break
		}
	}
	return nil, nil, fmt.Errorf("dns: listen tcp %s: %w", addr, lastErr)
}
