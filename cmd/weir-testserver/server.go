package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

type config struct {
	HTTP, TCPEcho, UDPEcho string
	Reply                  string
	Drain                  time.Duration // serving time after ctx ends, /healthz failing
}

// run serves until ctx ends, drains for cfg.Drain, then closes every
// listener and waits.
func run(ctx context.Context, cfg config, log *slog.Logger) error {
	if cfg.Reply == "" {
		h, err := os.Hostname()
		if err != nil {
			return err
		}
		cfg.Reply = h
	}
	var draining atomic.Bool
	var closers []io.Closer
	var wg sync.WaitGroup
	defer func() {
		for _, c := range closers {
			c.Close()
		}
		wg.Wait()
	}()
	serve := func(fn func()) {
		wg.Add(1)
		go func() { defer wg.Done(); fn() }()
	}
	if cfg.HTTP != "" {
		ln, err := net.Listen("tcp", cfg.HTTP)
		if err != nil {
			return fmt.Errorf("http: %w", err)
		}
		srv := &http.Server{Handler: handler(cfg.Reply, &draining), ReadHeaderTimeout: 10 * time.Second}
		closers = append(closers, shutdowner{srv})
		serve(func() { _ = srv.Serve(ln) })
	}
	if cfg.TCPEcho != "" {
		ln, err := net.Listen("tcp", cfg.TCPEcho)
		if err != nil {
			return fmt.Errorf("tcp echo: %w", err)
		}
		closers = append(closers, ln)
		serve(func() { tcpEcho(ln, &wg) })
	}
	if cfg.UDPEcho != "" {
		pc, err := net.ListenPacket("udp", cfg.UDPEcho)
		if err != nil {
			return fmt.Errorf("udp echo: %w", err)
		}
		closers = append(closers, pc)
		serve(func() { udpEcho(pc) })
	}
	log.Info("weir-testserver serving", "http", cfg.HTTP, "tcpEcho", cfg.TCPEcho, "udpEcho", cfg.UDPEcho, "reply", cfg.Reply)
	<-ctx.Done()
	if cfg.Drain > 0 {
		draining.Store(true)
		log.Info("draining: /healthz answers 503", "for", cfg.Drain)
		time.Sleep(cfg.Drain)
	}
	return nil
}

// handler answers GET / with reply and /healthz with ok, or 503 while
// draining; while draining, every answer closes its connection so that
// clients reconnect to another backend.
func handler(reply string, draining *atomic.Bool) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		if draining.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "draining\n")
			return
		}
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, reply) })
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if draining.Load() {
			w.Header().Set("Connection", "close")
		}
		mux.ServeHTTP(w, r)
	})
}

// shutdowner closes an HTTP server gracefully: requests in flight finish
// (for up to five seconds).
type shutdowner struct{ srv *http.Server }

func (s shutdowner) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		return s.srv.Close()
	}
	return nil
}

// tcpEcho echoes each connection until the listener closes. Connections
// end when the peer closes or after a minute idle.
func tcpEcho(ln net.Listener, wg *sync.WaitGroup) {
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			buf := make([]byte, 32<<10)
			for {
				c.SetDeadline(time.Now().Add(time.Minute))
				n, err := c.Read(buf)
				if n > 0 {
					if _, werr := c.Write(buf[:n]); werr != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
	}
}

func udpEcho(pc net.PacketConn) {
	buf := make([]byte, 64<<10)
	for {
		n, addr, err := pc.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		_, _ = pc.WriteTo(buf[:n], addr)
	}
}
