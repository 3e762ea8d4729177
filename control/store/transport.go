package store

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// Peer traffic (raft replication and the member-to-member gRPC service)
// shares one TCP port. Every connection starts with a mutual
// challenge-response over the shared cluster secret (HMAC-SHA256 over both
// sides' nonces), then one byte says which protocol follows. A peer without
// the secret gets nothing but a closed connection.

const (
	peerMagic     = "WEIR-PEER-1\n"
	protoRaft     = 'R'
	protoGRPC     = 'G'
	handshakeWait = 5 * time.Second
)

var errBadSecret = errors.New("store: peer failed the cluster-secret handshake (do all members use the same --cluster-secret-file?)")

func mac(secret []byte, label string, a, b []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label))
	m.Write(a)
	m.Write(b)
	return m.Sum(nil)
}

// clientHandshake authenticates conn to a server and announces proto.
func clientHandshake(conn net.Conn, secret []byte, proto byte) error {
	_ = conn.SetDeadline(time.Now().Add(handshakeWait))
	defer conn.SetDeadline(time.Time{})
	hello := make([]byte, len(peerMagic)+32)
	if _, err := io.ReadFull(conn, hello); err != nil {
		return fmt.Errorf("peer handshake: %w", err)
	}
	if string(hello[:len(peerMagic)]) != peerMagic {
		return errors.New("peer handshake: not a weir peer port")
	}
	srvNonce := hello[len(peerMagic):]
	myNonce := make([]byte, 32)
	_, _ = rand.Read(myNonce)
	msg := append(append([]byte{}, myNonce...), mac(secret, "client", srvNonce, myNonce)...)
	if _, err := conn.Write(msg); err != nil {
		return fmt.Errorf("peer handshake: %w", err)
	}
	proof := make([]byte, sha256.Size)
	if _, err := io.ReadFull(conn, proof); err != nil {
		return errBadSecret
	}
	if !hmac.Equal(proof, mac(secret, "server", myNonce, srvNonce)) {
		return errBadSecret
	}
	_, err := conn.Write([]byte{proto})
	return err
}

// serverHandshake authenticates a connecting peer and returns its proto.
func serverHandshake(conn net.Conn, secret []byte) (byte, error) {
	_ = conn.SetDeadline(time.Now().Add(handshakeWait))
	defer conn.SetDeadline(time.Time{})
	myNonce := make([]byte, 32)
	_, _ = rand.Read(myNonce)
	if _, err := conn.Write(append([]byte(peerMagic), myNonce...)); err != nil {
		return 0, err
	}
	msg := make([]byte, 32+sha256.Size)
	if _, err := io.ReadFull(conn, msg); err != nil {
		return 0, err
	}
	cliNonce, proof := msg[:32], msg[32:]
	if !hmac.Equal(proof, mac(secret, "client", myNonce, cliNonce)) {
		return 0, errBadSecret
	}
	if _, err := conn.Write(mac(secret, "server", cliNonce, myNonce)); err != nil {
		return 0, err
	}
	var p [1]byte
	if _, err := io.ReadFull(conn, p[:]); err != nil {
		return 0, err
	}
	return p[0], nil
}

// peerMux accepts authenticated peer connections and hands them to the raft
// stream layer or the gRPC listener.
type peerMux struct {
	ln     net.Listener
	secret []byte
	log    *slog.Logger
	raft   *chanListener
	grpc   *chanListener
	wg     sync.WaitGroup
	once   sync.Once
}

func newPeerMux(ln net.Listener, secret []byte, log *slog.Logger) *peerMux {
	m := &peerMux{ln: ln, secret: secret, log: log}
	m.raft = newChanListener(ln.Addr())
	m.grpc = newChanListener(ln.Addr())
	m.wg.Add(1)
	go m.acceptLoop()
	return m
}

func (m *peerMux) acceptLoop() {
	defer m.wg.Done()
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
			m.dispatch(conn)
		}()
	}
}

func (m *peerMux) dispatch(conn net.Conn) {
	proto, err := serverHandshake(conn, m.secret)
	if err != nil {
		m.log.Warn("rejected peer connection", "remote", conn.RemoteAddr().String(), "error", err)
		conn.Close()
		return
	}
	var l *chanListener
	switch proto {
	case protoRaft:
		l = m.raft
	case protoGRPC:
		l = m.grpc
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

// dial opens an authenticated connection to a peer for proto.
func dialPeer(addr string, secret []byte, proto byte, timeout time.Duration) (net.Conn, error) {
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	if err := clientHandshake(conn, secret, proto); err != nil {
		conn.Close()
		return nil, fmt.Errorf("%s: %w", addr, err)
	}
	return conn, nil
}

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
	secret    []byte
	advertise net.Addr
}

func (r *raftLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	return dialPeer(string(addr), r.secret, protoRaft, timeout)
}

func (r *raftLayer) Addr() net.Addr { return r.advertise }
