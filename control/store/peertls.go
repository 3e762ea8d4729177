package store

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/weirnet/weir/control/internal/atomicfile"
)

// A member's peer identity is a certificate signed by the cluster CA:
// CN weir:member:NAME, O weir:members, DNS name weir.members (the name
// every member dials), usable for server and client auth. It is kept in
// the data dir (peer.crt: leaf then CA; peer.key, 0600) so that a
// restarted member speaks to its peers before any leader exists. A member
// with the CA at hand (Config.CA) issues its own and renews it 30 days
// before expiry; a new member gets one through the join exchange.

const (
	// MemberOrganization is the O of every member certificate.
	MemberOrganization = "weir:members"
	// MemberCNPrefix starts the CN of a member certificate.
	MemberCNPrefix = "weir:member:"
	// memberServerName is the DNS name of every member certificate and the
	// name members verify each other's certificates for.
	memberServerName = "weir.members"

	peerCertFile = "peer.crt"
	peerKeyFile  = "peer.key"

	memberCertLifetime = 365 * 24 * time.Hour
	memberCertRenew    = 30 * 24 * time.Hour
)

// ErrNoPeerCert means the member has no member certificate yet and no CA
// to issue one with.
var ErrNoPeerCert = errors.New("store: no member certificate yet (the cluster CA is not known; a new member gets one by joining)")

// CAFunc returns the cluster CA's certificate and key, or nils while the
// member does not know them.
type CAFunc func() (*x509.Certificate, crypto.Signer)

// CABundle is the cluster CA with its rotation state: Cert and Key sign
// member certificates; Chain (default Cert) follows each leaf in its
// chain (the new CA cross-signed by the previous one during a rotation);
// Trusted are the other CAs peers' certificates may chain to (the
// previous CA during a rotation).
type CABundle struct {
	Cert    *x509.Certificate
	Key     crypto.Signer
	Chain   *x509.Certificate
	Trusted []*x509.Certificate
}

// CABundleFunc returns the CA bundle, nil while the member does not know
// the CA.
type CABundleFunc func() *CABundle

type peerCreds struct {
	dir  string
	name string
	ca   CABundleFunc
	log  *slog.Logger
	// revoked, when set, refuses a peer's member certificate (any error
	// refuses it: it fails closed).
	revoked func(*x509.Certificate) error

	mu     sync.Mutex
	cert   *tls.Certificate // leaf, then CA
	caCert *x509.Certificate
	pool   *x509.CertPool
	// bpool is the pool of bundle poolOf (Config.CABundle), signedBy the
	// CA the certificate was last found signed by (so that current checks
	// them once per CA).
	bpool    *x509.CertPool
	poolOf   *CABundle
	signedBy *x509.Certificate
}

// bundleOf adapts a CAFunc.
func bundleOf(ca CAFunc) CABundleFunc {
	if ca == nil {
		return nil
	}
	return func() *CABundle {
		c, k := ca()
		if c == nil {
			return nil
		}
		return &CABundle{Cert: c, Key: k}
	}
}

// load reads the data dir's certificate, if any.
func (p *peerCreds) load() error {
	certPEM, err := os.ReadFile(filepath.Join(p.dir, peerCertFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	keyPEM, err := os.ReadFile(filepath.Join(p.dir, peerKeyFile))
	if err != nil {
		return err
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return fmt.Errorf("%s: %w", peerCertFile, err)
	}
	if len(cert.Certificate) < 2 {
		return fmt.Errorf("%s: want the member certificate then the CA", peerCertFile)
	}
	caCert, err := x509.ParseCertificate(cert.Certificate[len(cert.Certificate)-1])
	if err != nil {
		return fmt.Errorf("%s: %w", peerCertFile, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.setLocked(&cert, caCert)
	return nil
}

func (p *peerCreds) setLocked(cert *tls.Certificate, caCert *x509.Certificate) {
	p.cert, p.caCert, p.signedBy = cert, caCert, nil
	p.pool = x509.NewCertPool()
	p.pool.AddCert(caCert)
}

// has reports whether the member has a certificate or can issue one.
func (p *peerCreds) has() bool {
	_, _, err := p.current()
	return err == nil
}

// current is the member's certificate and the pool peers are verified
// against, issuing (or renewing) the certificate when the CA is at hand:
// 30 days before it expires, or once another CA signs (a CA rotation).
// With a CA bundle the pool trusts every CA in it.
func (p *peerCreds) current() (*tls.Certificate, *x509.CertPool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b *CABundle
	if p.ca != nil {
		b = p.ca()
	}
	if p.cert != nil {
		fresh := time.Until(p.cert.Leaf.NotAfter) > memberCertRenew
		sameCA := b == nil || b.Cert == p.signedBy || b.Cert.Equal(p.caCert) || p.cert.Leaf.CheckSignatureFrom(b.Cert) == nil
		if sameCA && b != nil {
			p.signedBy = b.Cert
		}
		if (fresh && sameCA) || b == nil || b.Key == nil {
			return p.cert, p.poolLocked(b), nil
		}
	}
	if b == nil || b.Key == nil {
		return nil, nil, ErrNoPeerCert
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	chain, err := signMember(b, p.name, &key.PublicKey)
	if err != nil {
		return nil, nil, err
	}
	cert, err := p.saveLocked(chain, key)
	if err != nil {
		return nil, nil, err
	}
	p.setLocked(cert, b.Cert)
	p.signedBy = b.Cert
	p.log.Info("issued this member's peer certificate", "cn", cert.Leaf.Subject.CommonName, "issuer", cert.Leaf.Issuer.CommonName, "expires", cert.Leaf.NotAfter)
	return p.cert, p.poolLocked(b), nil
}

// poolLocked is the pool for bundle b (the CA and the trusted ones), or
// the data dir's CA without one.
func (p *peerCreds) poolLocked(b *CABundle) *x509.CertPool {
	if b == nil {
		return p.pool
	}
	if p.poolOf == nil || p.poolOf.Cert != b.Cert || len(p.poolOf.Trusted) != len(b.Trusted) {
		pool := x509.NewCertPool()
		pool.AddCert(b.Cert)
		for _, c := range b.Trusted {
			pool.AddCert(c)
		}
		p.bpool, p.poolOf = pool, b
	}
	return p.bpool
}

// install keeps a certificate received through the join exchange.
func (p *peerCreds) install(chain [][]byte, key *ecdsa.PrivateKey) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	cert, err := p.saveLocked(chain, key)
	if err != nil {
		return err
	}
	caCert, err := x509.ParseCertificate(chain[len(chain)-1])
	if err != nil {
		return err
	}
	p.setLocked(cert, caCert)
	return nil
}

func (p *peerCreds) saveLocked(chain [][]byte, key *ecdsa.PrivateKey) (*tls.Certificate, error) {
	var certPEM bytes.Buffer
	for _, der := range chain {
		_ = pem.Encode(&certPEM, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	cert, err := tls.X509KeyPair(certPEM.Bytes(), keyPEM)
	if err != nil {
		return nil, fmt.Errorf("member certificate: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(p.dir, peerKeyFile), keyPEM); err != nil {
		return nil, err
	}
	if err := atomicfile.Write(filepath.Join(p.dir, peerCertFile), certPEM.Bytes()); err != nil {
		return nil, err
	}
	return &cert, nil
}

// signMember signs a member certificate for name and pub with b: the
// chain holds the leaf then b.Chain (default the CA).
func signMember(b *CABundle, name string, pub crypto.PublicKey) ([][]byte, error) {
	caCert, caKey := b.Cert, b.Key
	if err := validMemberName(name); err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: MemberCNPrefix + name, Organization: []string{MemberOrganization}},
		DNSNames:     []string{memberServerName},
		NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(memberCertLifetime),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, pub, caKey)
	if err != nil {
		return nil, fmt.Errorf("sign member certificate for %s: %w", name, err)
	}
	tail := b.Chain
	if tail == nil {
		tail = caCert
	}
	return [][]byte{der, tail.Raw}, nil
}

func validMemberName(name string) error {
	if name == "" || len(name) > 253 || strings.ContainsAny(name, "\x00/ \t\r\n") {
		return fmt.Errorf("store: invalid member name %q", name)
	}
	return nil
}

// checkMember accepts only a member certificate (the chain was verified
// against the cluster CA by the TLS stack).
func checkMember(cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("store: peer presented no certificate")
	}
	leaf := cs.PeerCertificates[0]
	if !slices.Contains(leaf.Subject.Organization, MemberOrganization) || !strings.HasPrefix(leaf.Subject.CommonName, MemberCNPrefix) {
		return fmt.Errorf("store: peer certificate %q (O=%v) is not a member certificate", leaf.Subject.CommonName, leaf.Subject.Organization)
	}
	return nil
}

// verifyPeer accepts only a member certificate that is not revoked.
func (p *peerCreds) verifyPeer(cs tls.ConnectionState) error {
	if err := checkMember(cs); err != nil {
		return err
	}
	if p.revoked == nil {
		return nil
	}
	leaf := cs.PeerCertificates[0]
	if err := p.revoked(leaf); err != nil {
		p.log.Warn("refused a revoked member certificate", "subject", leaf.Subject.String(), "serial", leaf.SerialNumber.Text(16), "error", err)
		return fmt.Errorf("store: peer certificate %q refused: %w", leaf.Subject.CommonName, err)
	}
	return nil
}

// serverConfig is the peer port's TLS configuration: TLS 1.3; the join
// protocol without a client certificate, anything else with a verified
// member certificate.
func (p *peerCreds) serverConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			cert, pool, err := p.current()
			if err != nil {
				return nil, err
			}
			if offers(hello, alpnJoin) {
				return &tls.Config{
					MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{*cert},
					NextProtos: []string{alpnJoin}, ClientAuth: tls.NoClientCert,
				}, nil
			}
			return &tls.Config{
				MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{*cert},
				NextProtos: []string{alpnRaft, alpnGRPC},
				ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool,
				VerifyConnection: p.verifyPeer,
			}, nil
		},
	}
}

// clientConfig dials a member for proto with this member's certificate.
func (p *peerCreds) clientConfig(proto string) (*tls.Config, error) {
	cert, pool, err := p.current()
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{*cert},
		RootCAs: pool, ServerName: memberServerName, NextProtos: []string{proto},
		VerifyConnection: p.verifyPeer,
	}, nil
}

// MemberCertificates are the member certificates the members of the raft
// configuration present now, by member name (this member's own, and each
// peer's as a new connection to it shows it), for checks such as "has
// every member renewed its certificate from the new CA". A member that
// cannot be reached is in the error map.
func (s *Store) MemberCertificates(ctx context.Context) (map[string]*x509.Certificate, map[string]error, error) {
	f := s.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, nil, err
	}
	certs, errs := map[string]*x509.Certificate{}, map[string]error{}
	for _, srv := range f.Configuration().Servers {
		name := string(srv.ID)
		if name == s.cfg.Name {
			c, _, err := s.creds.current()
			if err != nil {
				errs[name] = err
			} else {
				certs[name] = c.Leaf
			}
			continue
		}
		timeout := 5 * time.Second
		if d, ok := ctx.Deadline(); ok && time.Until(d) < timeout {
			timeout = time.Until(d)
		}
		conn, err := dialPeer(string(srv.Address), s.creds, alpnGRPC, timeout)
		if err != nil {
			errs[name] = err
			continue
		}
		if pcs := conn.(*tls.Conn).ConnectionState().PeerCertificates; len(pcs) > 0 {
			certs[name] = pcs[0]
		}
		conn.Close()
	}
	return certs, errs, nil
}
