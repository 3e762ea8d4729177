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

// CA is the cluster's node-stream certificate authority.
type CA struct {
	CertPEM []byte
	KeyPEM  []byte
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
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
func NewCA() (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: "weir cluster CA"},
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
// KeyPEM hold (e.g. a copy kept in a member's data dir).
func ParseCA(certPEM, keyPEM []byte) (*CA, error) {
	ca := &CA{CertPEM: certPEM, KeyPEM: keyPEM}
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
	return nil
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
	return &tls.Certificate{Certificate: [][]byte{der, ca.cert.Raw}, PrivateKey: key, Leaf: leaf}, nil
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
	return &tls.Certificate{Certificate: [][]byte{der, ca.cert.Raw}, PrivateKey: key, Leaf: leaf}, nil
}

// NodeClientCert is a node's client certificate (CN system:node:NAME, O
// system:nodes), as RequestCertificate would sign it, for tests and tools
// that hold the CA.
func (ca *CA) NodeClientCert(node string, ttl time.Duration) (*tls.Certificate, error) {
	return ca.IssueClient(NodeUserPrefix+node, []string{NodesGroup}, ttl)
}
