package member

import (
	"context"
	"crypto"
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
	if cur := t.cur.Load(); cur != nil && string(cur.ca.CertPEM) == string(ca.CertPEM) {
		return nil
	}
	cert, err := ca.IssueServing("weir API", t.hosts...)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca.CertPEM) {
		return errors.New("member: cluster CA certificate is not PEM")
	}
	t.cur.Store(&tlsState{ca: ca, cert: cert, pool: pool})
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

// Files of the cluster CA in the data dir: ca.crt for clients and agents,
// ca.key (0600) so that a restarted member serves TLS before a leader is
// elected (the replicated store holds the same key).
const (
	caCertFile = "ca.crt"
	caKeyFile  = "ca.key"
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
	return nodestream.ParseCA(c, k)
}

func cacheCA(dir string, ca *nodestream.CA) error {
	if err := writeSecret(filepath.Join(dir, caKeyFile), strings.TrimSpace(string(ca.KeyPEM))); err != nil {
		return fmt.Errorf("write %s: %w", caKeyFile, err)
	}
	if err := writeSecret(filepath.Join(dir, caCertFile), strings.TrimSpace(string(ca.CertPEM))); err != nil {
		return fmt.Errorf("write %s: %w", caCertFile, err)
	}
	return nil
}

// peerCA is the store's Config.CA: the cluster CA the member serves with,
// else the data dir's copy (a restarted member, before the store opens);
// nils while neither is known (a new member before its CA loop).
func (m *Member) peerCA() (*x509.Certificate, crypto.Signer) {
	ca := m.tls.CA()
	if ca == nil {
		var err error
		if ca, err = loadCachedCA(m.cfg.DataDir); err != nil {
			return nil, nil
		}
	}
	cert, key := ca.Signer()
	return cert, key
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
// from the data dir's copy replaces it.
func (m *Member) caLoop(ctx context.Context) {
	for {
		ca, err := nodestream.EnsureCA(ctx, m.Store)
		if err == nil {
			if err = cacheCA(m.cfg.DataDir, ca); err == nil {
				err = m.tls.setCA(ca)
			}
			if err == nil {
				return
			}
			m.log.Error("cluster CA", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
}

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

// CACert is the cluster CA certificate (PEM), nil until known.
func (m *Member) CACert() []byte {
	if ca := m.tls.CA(); ca != nil {
		return ca.CertPEM
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
