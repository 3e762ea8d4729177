package store

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// Peer traffic (raft replication and snapshots, the member-to-member gRPC
// service, the join exchange) shares one TCP port and speaks TLS 1.3 only.
// ALPN names the protocol that follows:
//
//   - weir-raft/1, weir-peer/1: mutual TLS. Both sides present a member
//     certificate (peertls.go) signed by the cluster CA and check the
//     other's; a client without one fails the handshake and gets nothing.
//   - weir-join/1: a member that has no certificate yet proves the cluster
//     secret, bound to this TLS session, and receives its certificate and
//     the cluster's encryption config (join.go). Nothing else is served.

const (
	alpnRaft      = "weir-raft/1"
	alpnGRPC      = "weir-peer/1"
	alpnJoin      = "weir-join/1"
	handshakeWait = 5 * time.Second
)

// peerMux accepts peer connections, completes their TLS handshake and
// hands them to the raft stream layer, the gRPC listener or the join
// exchange.
type peerMux struct {
	ln    net.Listener
	creds *peerCreds
	join  func(*tls.Conn)
	log   *slog.Logger
	raft  *chanListener
	grpc  *chanListener
	wg    sync.WaitGroup
	once  sync.Once
}

func newPeerMux(ln net.Listener, creds *peerCreds, join func(*tls.Conn), log *slog.Logger) *peerMux {
	m := &peerMux{ln: ln, creds: creds, join: join, log: log}
	m.raft = newChanListener(ln.Addr())
	m.grpc = newChanListener(ln.Addr())
	m.wg.Add(1)
	go m.acceptLoop()
	return m
}

func (m *peerMux) acceptLoop() {
	defer m.wg.Done()
	cfg := m.creds.serverConfig()
	for {
		conn, err := m.ln.Accept()
		if err != nil {
			m.raft.close()
			m.grpc.close()
			return
		}
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			m.dispatch(tls.Server(conn, cfg))
		}()
	}
}

func (m *peerMux) dispatch(conn *tls.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), handshakeWait)
	err := conn.HandshakeContext(ctx)
	cancel()
	if err != nil {
		m.log.Warn("rejected peer connection", "remote", conn.RemoteAddr().String(), "error", err)
		conn.Close()
		return
	}
	var l *chanListener
	switch conn.ConnectionState().NegotiatedProtocol {
	case alpnRaft:
		l = m.raft
	case alpnGRPC:
		l = m.grpc
	case alpnJoin:
		m.join(conn)
		conn.Close()
		return
	default:
		conn.Close()
		return
	}
	if !l.deliver(conn) {
		conn.Close()
	}
}

// Close stops accepting and waits for in-flight handshakes.
func (m *peerMux) Close() error {
	var err error
	m.once.Do(func() {
		err = m.ln.Close()
		m.wg.Wait()
	})
	return err
}

// dialPeer opens a mutually authenticated connection to a member for
// proto (alpnRaft or alpnGRPC).
func dialPeer(addr string, creds *peerCreds, proto string, timeout time.Duration) (net.Conn, error) {
	cfg, err := creds.clientConfig(proto)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	conn, err := (&tls.Dialer{Config: cfg}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("peer %s: %w", addr, err)
	}
	if got := conn.(*tls.Conn).ConnectionState().NegotiatedProtocol; got != proto {
		conn.Close()
		return nil, fmt.Errorf("peer %s: negotiated %q, want %q: %w", addr, got, proto, errNotPeer)
	}
	return conn, nil
}

var errNotPeer = errors.New("store: not a weir peer port")

// chanListener is a net.Listener fed by the mux.
type chanListener struct {
	addr   net.Addr
	conns  chan net.Conn
	done   chan struct{}
	closed sync.Once
}

func newChanListener(addr net.Addr) *chanListener {
	return &chanListener{addr: addr, conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *chanListener) deliver(c net.Conn) bool {
	select {
	case l.conns <- c:
		return true
	case <-l.done:
		return false
	}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) close()         { l.closed.Do(func() { close(l.done) }) }
func (l *chanListener) Close() error   { l.close(); return nil }
func (l *chanListener) Addr() net.Addr { return l.addr }

// raftLayer is raft's StreamLayer over the mux.
type raftLayer struct {
	*chanListener
	creds     *peerCreds
	advertise net.Addr
}

func (r *raftLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	return dialPeer(string(addr), r.creds, alpnRaft, timeout)
}

func (r *raftLayer) Addr() net.Addr { return r.advertise }

func offers(hello *tls.ClientHelloInfo, proto string) bool {
	return slices.Contains(hello.SupportedProtos, proto)
}
