package member

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirnet/weir/control/nodeauth"
	"github.com/weirnet/weir/control/nodestream"
)

// nodeStream is the member's node-stream server: its listener is bound at
// start (address errors surface at once); it serves once the cluster CA
// is known (caLoop).
type nodeStream struct {
	ln     net.Listener
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	srv    *nodestream.Server
}

// NodeStreamAddr is the address the node stream listens on ("" when off).
func (m *Member) NodeStreamAddr() string {
	if m.nodes == nil {
		return ""
	}
	return m.nodes.ln.Addr().String()
}

func (m *Member) startNodeStream(reg prometheus.Registerer) error {
	if m.cfg.NodeListen == "" {
		return nil
	}
	ln, err := net.Listen("tcp", m.cfg.NodeListen)
	if err != nil {
		return fmt.Errorf("listen on node-stream address %s: %w", m.cfg.NodeListen, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ns := &nodeStream{ln: ln, cancel: cancel}
	m.nodes = ns
	ns.wg.Add(1)
	go func() {
		defer ns.wg.Done()
		if err := ns.run(ctx, m, reg); err != nil && ctx.Err() == nil {
			m.log.Error("node stream stopped", "error", err)
		}
	}()
	return nil
}

func (ns *nodeStream) run(ctx context.Context, m *Member, reg prometheus.Registerer) error {
	select {
	case <-ctx.Done():
		return nil
	case <-m.tls.ready:
	}
	ca := m.tls.CA()
	tc, err := ns.servingTLS(m, certHosts(ns.ln.Addr()))
	if err != nil {
		return err
	}
	renew, lease := nodestream.LeaseTimes(m.cfg.NodeGracePeriod)
	srv, err := nodestream.New(nodestream.Config{Store: m.Store, TLS: tc, CA: ca, CurrentCA: m.tls.CA, ClusterCIDR: m.cfg.ClusterCIDR, Members: m.Store.Members,
		LeaseRenew: renew, LeaseDuration: lease,
		Revoked: m.revoked.Check, RevocationsAdded: m.revoked.Added, Logger: m.log, Registerer: reg})
	if err != nil {
		return err
	}
	ns.mu.Lock()
	if ctx.Err() != nil {
		ns.mu.Unlock()
		return nil
	}
	ns.srv = srv
	ns.mu.Unlock()
	m.log.Info("node stream serving", "addr", ns.ln.Addr().String())
	return srv.Serve(ns.ln)
}

// servingTLS serves a node-stream certificate from the cluster CA in
// force: a CA rotation replaces it at the next handshake.
func (ns *nodeStream) servingTLS(m *Member, hosts []string) (*tls.Config, error) {
	var mu sync.Mutex
	var cur *tls.Certificate
	var of *nodestream.CA
	get := func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
		ca := m.tls.CA()
		mu.Lock()
		defer mu.Unlock()
		if cur != nil && ca == of {
			return cur, nil
		}
		c, err := ca.IssueServing("weir node stream", hosts...)
		if err != nil {
			return nil, err
		}
		cur, of = c, ca
		return c, nil
	}
	if _, err := get(nil); err != nil {
		return nil, err
	}
	return &tls.Config{GetCertificate: get, MinVersion: tls.VersionTLS13, NextProtos: []string{"h2"}}, nil
}

// nodeCA is the cluster CA certificate the API trusts when it calls node
// APIs (pods/log, pods/exec).
func (m *Member) nodeCA(ctx context.Context) ([]byte, error) {
	if ca := m.tls.CA(); ca != nil {
		return ca.BundlePEM(), nil
	}
	ca, err := nodestream.EnsureCA(ctx, m.Store)
	if err != nil {
		return nil, err
	}
	return ca.BundlePEM(), nil
}

// nodeClientCert is the member's client certificate towards node APIs
// (nodestream.KubeletClientUser), issued from the cluster CA on first use
// and again when two thirds of its day are gone.
func (m *Member) nodeClientCert() (*tls.Certificate, error) {
	ca := m.tls.CA()
	if ca == nil {
		return nil, errors.New("the cluster CA is not known yet")
	}
	m.kubeletMu.Lock()
	defer m.kubeletMu.Unlock()
	if c := m.kubeletCert; c != nil && m.kubeletCA == ca &&
		time.Until(c.Leaf.NotAfter) > 8*time.Hour {
		return c, nil
	}
	c, err := ca.IssueClient(nodestream.KubeletClientUser, []string{nodestream.KubeletClientGroup}, 24*time.Hour)
	if err != nil {
		return nil, err
	}
	m.kubeletCert, m.kubeletCA = c, ca
	return c, nil
}

// startNodeAuth starts the node authorizer's graph (pods -> node ->
// referenced objects, fed by the store's watch); Close stops it.
func (m *Member) startNodeAuth() {
	ctx, cancel := context.WithCancel(context.Background())
	g := nodeauth.NewGraph(m.Store, m.log)
	done := make(chan struct{})
	go func() { defer close(done); g.Run(ctx) }()
	m.nodeAuthz = nodeauth.New(g)
	m.stopNodeAuth = func() { cancel(); <-done }
}

// close stops serving and waits. Idempotent.
func (ns *nodeStream) close() {
	ns.cancel()
	ns.mu.Lock()
	srv := ns.srv
	ns.mu.Unlock()
	if srv != nil {
		srv.Close()
	} else {
		ns.ln.Close()
	}
	ns.wg.Wait()
}

// certHosts are the names the server certificate covers: the bound IP, or
// every local address when bound to the unspecified address.
func certHosts(addr net.Addr) []string {
	hosts := []string{"localhost", "127.0.0.1"}
	ta, ok := addr.(*net.TCPAddr)
	if !ok {
		return hosts
	}
	if !ta.IP.IsUnspecified() {
		return append(hosts, ta.IP.String())
	}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				hosts = append(hosts, n.IP.String())
			}
		}
	}
	hn, _ := os.Hostname()
	return append(hosts, hn)
}
