package nodestream

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"

	"github.com/weirnet/weir/control/store"
)

// caKey is where the cluster CA lives: a bookkeeping key the API never
// serves, created once by the first member that needs it, read by the
// others, so every member signs its node-stream certificate with it.
var caKey = store.Key{Resource: "_nodestream", Name: "ca"}

// CA is the cluster's certificate authority: CertPEM and KeyPEM sign.
// During a rotation (RotateCA until FinishCARotation) the replaced CA's
// certificate is still trusted (PreviousPEM) and CrossPEM is the signing
// CA's certificate signed by the replaced CA: it follows every leaf this
// CA issues, so that holders of only the replaced CA still verify them.
type CA struct {
	CertPEM     []byte
	KeyPEM      []byte
	PreviousPEM []byte `json:",omitempty"`
	CrossPEM    []byte `json:",omitempty"`
	cert        *x509.Certificate
	key         *ecdsa.PrivateKey
	prev, cross *x509.Certificate
	pool        *x509.CertPool
}

// EnsureCA returns the cluster CA, creating it when the cluster has none.
func EnsureCA(ctx context.Context, st store.Interface) (*CA, error) {
	for i := 0; i < 5; i++ {
		o, err := st.Get(ctx, caKey, store.ReadOptions{})
		if err == nil {
			var ca CA
			if err := json.Unmarshal(o.Value, &ca); err != nil {
				return nil, fmt.Errorf("decode cluster CA: %w", err)
			}
			return &ca, ca.parse()
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("read cluster CA: %w", err)
		}
		ca, err := NewCA()
		if err != nil {
			return nil, err
		}
		val, _ := json.Marshal(ca)
		res, err := st.Txn(ctx, store.Txn{ID: newUID(), Conds: []store.Cond{{Kind: store.MustNotExist, Key: caKey}},
			Ops: []store.Op{{Kind: store.Put, Key: caKey, Value: val}}})
		if err != nil {
			return nil, fmt.Errorf("store cluster CA: %w", err)
		}
		if res.Succeeded {
			return ca, nil
		}
	}
	return nil, errors.New("nodestream: could not create or read the cluster CA")
}

// NewCA makes a fresh self-signed ECDSA P-256 CA valid for ten years.
func NewCA() (*CA, error) { return newCA("weir cluster CA") }

func newCA(cn string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(10, 0, 0),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("create CA certificate: %w", err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	ca := &CA{CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})}
	return ca, ca.parse()
}

// ParseCA reads a CA from the PEM certificate and key that CertPEM and
// KeyPEM hold (e.g. a copy kept in a member's data dir). A bundle
// (BundlePEM) holds the signing CA first, then the previous one; crossPEM
// (optional) is CrossPEM.
func ParseCA(bundlePEM, keyPEM []byte, crossPEM ...[]byte) (*CA, error) {
	cb, rest := pem.Decode(bundlePEM)
	if cb == nil {
		return nil, errors.New("nodestream: cluster CA is not PEM")
	}
	ca := &CA{CertPEM: pem.EncodeToMemory(cb), KeyPEM: keyPEM}
	if pb, _ := pem.Decode(rest); pb != nil {
		ca.PreviousPEM = pem.EncodeToMemory(pb)
	}
	if len(crossPEM) > 0 && len(crossPEM[0]) > 0 && ca.PreviousPEM != nil {
		ca.CrossPEM = crossPEM[0]
	}
	return ca, ca.parse()
}

func (ca *CA) parse() error {
	cb, _ := pem.Decode(ca.CertPEM)
	kb, _ := pem.Decode(ca.KeyPEM)
	if cb == nil || kb == nil {
		return errors.New("nodestream: cluster CA is not PEM")
	}
	var err error
	if ca.cert, err = x509.ParseCertificate(cb.Bytes); err != nil {
		return fmt.Errorf("parse CA certificate: %w", err)
	}
	if ca.key, err = x509.ParseECPrivateKey(kb.Bytes); err != nil {
		return fmt.Errorf("parse CA key: %w", err)
	}
	if !ca.key.PublicKey.Equal(ca.cert.PublicKey) {
		return errors.New("nodestream: the cluster CA key does not match its certificate")
	}
	ca.pool = x509.NewCertPool()
	ca.pool.AddCert(ca.cert)
	ca.prev, ca.cross = nil, nil
	if len(ca.PreviousPEM) > 0 {
		if ca.prev, err = parseCertPEM(ca.PreviousPEM); err != nil {
			return fmt.Errorf("parse the previous CA certificate: %w", err)
		}
		ca.pool.AddCert(ca.prev)
	}
	if len(ca.CrossPEM) > 0 {
		if ca.cross, err = parseCertPEM(ca.CrossPEM); err != nil {
			return fmt.Errorf("parse the cross-signed CA certificate: %w", err)
		}
	}
	return nil
}

func parseCertPEM(data []byte) (*x509.Certificate, error) {
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "CERTIFICATE" {
		return nil, errors.New("not a PEM certificate")
	}
	return x509.ParseCertificate(b.Bytes)
}

// BundlePEM is the trust bundle: the signing CA, then, during a rotation,
// the previous one. It is what ca.crt files, kubeconfigs, the
// kube-root-ca.crt ConfigMaps and agents hold.
func (ca *CA) BundlePEM() []byte {
	out := append([]byte{}, ca.CertPEM...)
	if len(ca.PreviousPEM) > 0 {
		if len(out) > 0 && out[len(out)-1] != '\n' {
			out = append(out, '\n')
		}
		out = append(out, ca.PreviousPEM...)
	}
	return out
}

// Pool is the trust bundle as a pool (certificates signed by either CA
// verify against it). Callers must not modify it.
func (ca *CA) Pool() *x509.CertPool { return ca.pool }

// Previous is the previous CA during a rotation, else nil.
func (ca *CA) Previous() *x509.Certificate { return ca.prev }

// Subject is the signing CA's CN.
func (ca *CA) Subject() string { return ca.cert.Subject.CommonName }

// Rotating says whether a CA rotation is in its transition.
func (ca *CA) Rotating() bool { return ca.prev != nil }

// Equal says whether ca and o are the same CA in the same rotation state.
func (ca *CA) Equal(o *CA) bool {
	return o != nil && string(ca.CertPEM) == string(o.CertPEM) && string(ca.PreviousPEM) == string(o.PreviousPEM) &&
		string(ca.CrossPEM) == string(o.CrossPEM)
}

// chainTail follows a leaf this CA signed: the cross-signed certificate
// during a rotation, else the CA certificate.
func (ca *CA) chainTail() []byte {
	if ca.cross != nil {
		return ca.cross.Raw
	}
	return ca.cert.Raw
}

// ChainTail is what follows a leaf this CA signed in a presented chain
// (DER): the signing CA cross-signed by the previous one during a
// rotation, else the CA certificate.
func (ca *CA) ChainTail() *x509.Certificate {
	if ca.cross != nil {
		return ca.cross
	}
	return ca.cert
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	return n
}

// ServerTLS issues a one-year node-stream server certificate for hosts
// (IP addresses or DNS names) and returns a TLS config serving it.
func (ca *CA) ServerTLS(hosts ...string) (*tls.Config, error) {
	cert, err := ca.IssueServing("weir node stream", hosts...)
	if err != nil {
		return nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{*cert}, MinVersion: tls.VersionTLS13, NextProtos: []string{"h2"}}, nil
}

// IssueServing signs a one-year server certificate named cn for hosts (IP
// addresses or DNS names); the key never leaves memory. The chain holds
// the CA after the leaf.
func (ca *CA) IssueServing(cn string, hosts ...string) (*tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, fmt.Errorf("sign %s certificate: %w", cn, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{der, ca.chainTail()}, PrivateKey: key, Leaf: leaf}, nil
}

// Signer is the CA's certificate and key, for signing other certificates
// (client certificates in tests).
func (ca *CA) Signer() (*x509.Certificate, *ecdsa.PrivateKey) { return ca.cert, ca.key }

// IssueClient signs a client certificate for cn in groups (the subject's
// O), valid for ttl; the key never leaves memory. Members use it for
// their own identities (the node API client), tests for node
// identities.
func (ca *CA) IssueClient(cn string, groups []string, ttl time.Duration) (*tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: cn, Organization: groups},
		NotBefore: time.Now().Add(-5 * time.Minute), NotAfter: time.Now().Add(ttl),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, fmt.Errorf("sign %s client certificate: %w", cn, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{der, ca.chainTail()}, PrivateKey: key, Leaf: leaf}, nil
}

// NodeClientCert is a node's client certificate (CN system:node:NAME, O
// system:nodes), as RequestCertificate would sign it, for tests and tools
// that hold the CA.
func (ca *CA) NodeClientCert(node string, ttl time.Duration) (*tls.Certificate, error) {
	return ca.IssueClient(NodeUserPrefix+node, []string{NodesGroup}, ttl)
}

// ErrCARotation is returned by RotateCA during a rotation and by
// FinishCARotation without one.
var ErrCARotation = errors.New("nodestream: CA rotation state")

// RotateCA starts a rotation of the cluster CA: a new CA signs from now
// on; the replaced one stays trusted (PreviousPEM) and cross-signs the
// new one (CrossPEM), until FinishCARotation. It refuses while a rotation
// is in its transition.
func RotateCA(ctx context.Context, st store.Interface, now time.Time) (*CA, error) {
	cur, rev, err := readCA(ctx, st)
	if err != nil {
		return nil, err
	}
	if cur.Rotating() {
		return nil, fmt.Errorf("%w: a rotation is already in its transition: finish it first (weir certs rotate-ca --finish)", ErrCARotation)
	}
	next, err := newCA("weir cluster CA " + now.UTC().Format("2006-01-02T15:04:05Z"))
	if err != nil {
		return nil, err
	}
	tmpl := *next.cert
	tmpl.SerialNumber = serial()
	if tmpl.NotAfter.After(cur.cert.NotAfter) {
		tmpl.NotAfter = cur.cert.NotAfter
	}
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, cur.cert, &next.key.PublicKey, cur.key)
	if err != nil {
		return nil, fmt.Errorf("cross-sign the new CA: %w", err)
	}
	next.PreviousPEM = cur.CertPEM
	next.CrossPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := next.parse(); err != nil {
		return nil, err
	}
	return next, writeCA(ctx, st, next, rev)
}

// FinishCARotation ends a rotation: the previous CA is no longer trusted
// anywhere, nor does it cross-sign.
func FinishCARotation(ctx context.Context, st store.Interface) (*CA, error) {
	cur, rev, err := readCA(ctx, st)
	if err != nil {
		return nil, err
	}
	if !cur.Rotating() {
		return nil, fmt.Errorf("%w: no rotation to finish (start one with weir certs rotate-ca)", ErrCARotation)
	}
	next := &CA{CertPEM: cur.CertPEM, KeyPEM: cur.KeyPEM}
	if err := next.parse(); err != nil {
		return nil, err
	}
	return next, writeCA(ctx, st, next, rev)
}

// ReadCA reads the cluster CA (opts.Stale: from this member's state).
func ReadCA(ctx context.Context, st store.Interface, opts store.ReadOptions) (*CA, error) {
	o, err := st.Get(ctx, caKey, opts)
	if err != nil {
		return nil, fmt.Errorf("read cluster CA: %w", err)
	}
	var ca CA
	if err := json.Unmarshal(o.Value, &ca); err != nil {
		return nil, fmt.Errorf("decode cluster CA: %w", err)
	}
	return &ca, ca.parse()
}

func readCA(ctx context.Context, st store.Interface) (*CA, uint64, error) {
	o, err := st.Get(ctx, caKey, store.ReadOptions{})
	if err != nil {
		return nil, 0, fmt.Errorf("read cluster CA: %w", err)
	}
	var ca CA
	if err := json.Unmarshal(o.Value, &ca); err != nil {
		return nil, 0, fmt.Errorf("decode cluster CA: %w", err)
	}
	return &ca, o.Revision, ca.parse()
}

func writeCA(ctx context.Context, st store.Interface, ca *CA, rev uint64) error {
	val, _ := json.Marshal(ca)
	res, err := st.Txn(ctx, store.Txn{ID: newUID(), Conds: []store.Cond{{Kind: store.RevisionIs, Key: caKey, Revision: rev}},
		Ops: []store.Op{{Kind: store.Put, Key: caKey, Value: val}}})
	if err != nil {
		return fmt.Errorf("store cluster CA: %w", err)
	}
	if !res.Succeeded {
		return fmt.Errorf("%w: the cluster CA changed meanwhile; run the command again", ErrCARotation)
	}
	return nil
}
