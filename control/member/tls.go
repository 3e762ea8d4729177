package member

import (
	"context"

	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weirnet/weir/control/api"
	"github.com/weirnet/weir/control/nodestream"
	"github.com/weirnet/weir/control/store"
)

// Names every API serving certificate covers besides the member's own
// addresses: those pods use to reach the API through the `kubernetes`
// Service, as kube-apiserver's certificate does.
var kubernetesNames = []string{"kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}

// apiTLS is the member's API TLS state: the cluster CA once known, the
// serving certificate it signed and the pool client certificates are
// verified against. Handshakes fail until the CA is known (see caLoop).
type apiTLS struct {
	hosts []string // SANs of the serving certificate
	cur   atomic.Pointer[tlsState]
	ready chan struct{} // closed once the CA is known
	once  sync.Once
}

type tlsState struct {
	ca   *nodestream.CA
	cert *tls.Certificate
	pool *x509.CertPool
}

func newAPITLS(hosts []string) *apiTLS { return &apiTLS{hosts: hosts, ready: make(chan struct{})} }

// setCA issues a serving certificate signed by ca and serves it from now
// on; an unchanged CA keeps the current certificate.
func (t *apiTLS) setCA(ca *nodestream.CA) error {
	if cur := t.cur.Load(); cur != nil && cur.ca.Equal(ca) {
		return nil
	}
	cert, err := ca.IssueServing("weir API", t.hosts...)
	if err != nil {
		return err
	}
	t.cur.Store(&tlsState{ca: ca, cert: cert, pool: ca.Pool()})
	t.once.Do(func() { close(t.ready) })
	return nil
}

// CA is the cluster CA, nil until known.
func (t *apiTLS) CA() *nodestream.CA {
	if s := t.cur.Load(); s != nil {
		return s.ca
	}
	return nil
}

// clientCAs is the pool client certificates must chain to (nil until the
// CA is known: then no client certificate is trusted).
func (t *apiTLS) clientCAs() *x509.CertPool {
	if s := t.cur.Load(); s != nil {
		return s.pool
	}
	return nil
}

// serverConfig is the API listener's TLS configuration: TLS 1.2 or
// newer, HTTP/2 or HTTP/1.1, the current serving certificate, and client
// certificates requested (not required) and advertised as signed by the
// cluster CA. The API verifies them per request (control/api auth.go), so
// that an untrusted certificate without a token is a 401 Status, as in
// kube-apiserver, rather than a failed handshake.
func (t *apiTLS) serverConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"h2", "http/1.1"},
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			s := t.cur.Load()
			if s == nil {
				return nil, errors.New("member: no serving certificate yet: the cluster CA is not known (no raft leader yet?)")
			}
			return &tls.Config{
				MinVersion:   tls.VersionTLS12,
				NextProtos:   []string{"h2", "http/1.1"},
				Certificates: []tls.Certificate{*s.cert},
				ClientAuth:   tls.RequestClientCert,
				ClientCAs:    s.pool,
			}, nil
		},
	}
}

// apiHosts are the SANs of member's API serving certificate: its
// addresses (certHosts), the `kubernetes` Service's ClusterIP (the first
// address of serviceCIDR) and the kubernetes.default.svc names.
func apiHosts(addr net.Addr, serviceCIDR string) ([]string, error) {
	if serviceCIDR == "" {
		serviceCIDR = api.DefaultServiceCIDR
	}
	p, err := netip.ParsePrefix(serviceCIDR)
	if err != nil {
		return nil, fmt.Errorf("--service-cidr %q: %w", serviceCIDR, err)
	}
	hosts := append(certHosts(addr), p.Masked().Addr().Next().String())
	return append(hosts, kubernetesNames...), nil
}

// Files of the cluster CA in the data dir: ca.crt for clients and agents
// (the trust bundle: during a CA rotation the new CA, then the previous
// one), ca.key (0600) so that a restarted member serves TLS before a
// leader is elected (the replicated store holds the same key), and during
// a rotation ca-cross.crt (the new CA cross-signed by the previous one).
const (
	caCertFile  = "ca.crt"
	caKeyFile   = "ca.key"
	caCrossFile = "ca-cross.crt"
)

func loadCachedCA(dir string) (*nodestream.CA, error) {
	c, err := os.ReadFile(filepath.Join(dir, caCertFile))
	if err != nil {
		return nil, err
	}
	k, err := os.ReadFile(filepath.Join(dir, caKeyFile))
	if err != nil {
		return nil, err
	}
	x, err := os.ReadFile(filepath.Join(dir, caCrossFile))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	return nodestream.ParseCA(c, k, x)
}

func cacheCA(dir string, ca *nodestream.CA) error {
	// The cross-signed certificate first and ca.crt last: a member that
	// restarts in between serves the previous state.
	if len(ca.CrossPEM) > 0 {
		if err := writeSecret(filepath.Join(dir, caCrossFile), strings.TrimSpace(string(ca.CrossPEM))); err != nil {
			return fmt.Errorf("write %s: %w", caCrossFile, err)
		}
	}
	if err := writeSecret(filepath.Join(dir, caKeyFile), strings.TrimSpace(string(ca.KeyPEM))); err != nil {
		return fmt.Errorf("write %s: %w", caKeyFile, err)
	}
	if err := writeSecret(filepath.Join(dir, caCertFile), strings.TrimSpace(string(ca.BundlePEM()))); err != nil {
		return fmt.Errorf("write %s: %w", caCertFile, err)
	}
	if len(ca.CrossPEM) == 0 {
		if err := os.Remove(filepath.Join(dir, caCrossFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// peerCA is the store's Config.CABundle: the cluster CA the member serves
// with, else the data dir's copy (a restarted member, before the store
// opens); nil while neither is known (a new member before its CA loop).
func (m *Member) peerCA() *store.CABundle {
	ca := m.tls.CA()
	if ca == nil {
		var err error
		if ca, err = loadCachedCA(m.cfg.DataDir); err != nil {
			return nil
		}
	}
	return peerBundle(ca)
}

func peerBundle(ca *nodestream.CA) *store.CABundle {
	cert, key := ca.Signer()
	b := &store.CABundle{Cert: cert, Key: key, Chain: ca.ChainTail()}
	if prev := ca.Previous(); prev != nil {
		b.Trusted = []*x509.Certificate{prev}
	}
	return b
}

// loadCached serves the data dir's copy of the cluster CA, if any; it
// reports whether there was a usable one.
func (m *Member) loadCached() bool {
	ca, err := loadCachedCA(m.cfg.DataDir)
	if err != nil {
		return false
	}
	if err := m.tls.setCA(ca); err != nil {
		m.log.Warn("cached cluster CA unusable", "error", err)
		return false
	}
	return true
}

// caLoop makes the cluster CA known to the member's TLS from the
// replicated store (EnsureCA: read, or created by the first member that
// asks), retrying until it succeeds or ctx ends. A store CA that differs
// from the data dir's copy replaces it. Then it follows the store's CA
// (a rotation: RotateCA, FinishCARotation) from this member's state,
// every caFollow: the data dir's files, the API's serving certificate and
// client pool, and this member's peer certificate follow it.
func (m *Member) caLoop(ctx context.Context) {
	for {
		ca, err := nodestream.EnsureCA(ctx, m.Store)
		if err == nil {
			if err = m.installCA(ca); err == nil {
				break
			}
			m.log.Error("cluster CA", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(caFollow):
		}
		ca, err := nodestream.ReadCA(ctx, m.Store, store.ReadOptions{Stale: true})
		if err != nil {
			m.log.Debug("cluster CA: read", "error", err)
			continue
		}
		if cur := m.tls.CA(); cur != nil && cur.Equal(ca) {
			continue
		}
		if err := m.installCA(ca); err != nil {
			m.log.Error("cluster CA changed: install", "error", err)
			continue
		}
		m.log.Info("cluster CA changed", "ca", ca.Subject(), "rotating", ca.Rotating())
		if err := m.Store.EnsurePeerCert(); err != nil {
			m.log.Warn("renew this member's peer certificate", "error", err)
		}
	}
}

func (m *Member) installCA(ca *nodestream.CA) error {
	if err := cacheCA(m.cfg.DataDir, ca); err != nil {
		return err
	}
	return m.tls.setCA(ca)
}

// caFollow is how often a member checks its state for a new cluster CA.
const caFollow = time.Second

// ClientTLS is a TLS client configuration that trusts the cluster CA,
// for clients of this member's API (its own leader loops, tests). Nil
// until the CA is known.
func (m *Member) ClientTLS() *tls.Config {
	pool := m.tls.clientCAs()
	if pool == nil {
		return nil
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}
}

// CACert is the cluster CA's trust bundle (PEM: both CAs during a CA
// rotation), nil until known.
func (m *Member) CACert() []byte {
	if ca := m.tls.CA(); ca != nil {
		return ca.BundlePEM()
	}
	return nil
}

// APIURL is the API's https URL (loopback when bound to all addresses).
func (m *Member) APIURL() string { return "https://" + localAddr(m.APIAddr()) }

// startTLS starts the CA loop. A member that has just bootstrapped or
// joined (wait) returns once the CA is known, so that it serves HTTPS when
// Start returns; a restarted one serves at once from its data dir's copy
// of the CA, or as soon as a leader answers.
func (m *Member) startTLS(ctx context.Context, wait bool) error {
	hosts, err := apiHosts(m.ln.Addr(), m.cfg.ServiceCIDR)
	if err != nil {
		return err
	}
	m.tls.hosts = hosts
	// The cached copy is served before Start returns, not by the loop.
	cached := m.loadCached()
	loopCtx, cancel := context.WithCancel(context.Background())
	m.stopCA, m.caDone = cancel, make(chan struct{})
	go func() {
		defer close(m.caDone)
		m.caLoop(loopCtx)
	}()
	if !wait || cached {
		return nil
	}
	t := time.NewTimer(caWait)
	defer t.Stop()
	select {
	case <-m.tls.ready:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return fmt.Errorf("member: no cluster CA after %s (is there a raft leader?)", caWait)
	}
}

// caWait bounds how long a new member waits for the cluster CA.
const caWait = 60 * time.Second
