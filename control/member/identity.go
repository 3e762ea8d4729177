package member

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"sync/atomic"
	"time"

	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/authorization/union"
	"k8s.io/client-go/rest"

	"github.com/weirnet/weir/control/nodestream"
	"github.com/weirnet/weir/control/rbac"
	"github.com/weirnet/weir/control/store"
)

// ClientCert is a client certificate signed by the cluster CA and its
// key, PEM-encoded, with the CA's certificate.
type ClientCert struct {
	CertPEM, KeyPEM, CAPEM []byte
}

// IssueClientCert signs a client certificate for user name in groups
// (CN=name, O=groups: the API's certificate authenticator reads them
// back), valid for ttl.
func IssueClientCert(ca *nodestream.CA, name string, groups []string, ttl time.Duration) (*ClientCert, error) {
	if name == "" {
		return nil, errors.New("member: a client certificate needs a user name")
	}
	caCert, caKey := ca.Signer()
	if caCert == nil || caKey == nil {
		return nil, errors.New("member: the cluster CA has no key to sign with")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: name, Organization: groups},
		NotBefore: time.Now().Add(-5 * time.Minute), NotAfter: time.Now().Add(ttl),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("sign the client certificate of %s: %w", name, err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	return &ClientCert{CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), CAPEM: ca.BundlePEM()}, nil
}

// IssueUserCert signs a client certificate for a user with the cluster CA
// kept in a control member's data dir (ca.crt, ca.key): what `weir
// kubeconfig --user` does, as kubeadm's `kubeconfig user` does on a
// control-plane node. Reading ca.key needs the data dir's owner (root).
func IssueUserCert(dataDir, name string, groups []string, ttl time.Duration) (*ClientCert, error) {
	ca, err := loadCachedCA(dataDir)
	if err != nil {
		return nil, fmt.Errorf("read the cluster CA of %s: %w (pass a control member's --data-dir, as root)", dataDir, err)
	}
	return IssueClientCert(ca, name, groups, ttl)
}

// componentCertTTL is how long the certificates of the leader's loops
// live; a new leader term issues new ones.
const componentCertTTL = 365 * 24 * time.Hour

// componentRESTConfig is how one of the leader's components (the
// controllers as system:kube-controller-manager, the scheduler as
// system:kube-scheduler) reaches this member's API: a client certificate
// the member signs with the cluster CA, so that it has only the rights
// its bootstrap role gives.
func (m *Member) componentRESTConfig(name string) (*rest.Config, error) {
	ca := m.tls.CA()
	if ca == nil {
		return nil, errors.New("member: the cluster CA is not known yet")
	}
	cert, err := IssueClientCert(ca, name, nil, componentCertTTL)
	if err != nil {
		return nil, err
	}
	return &rest.Config{Host: m.APIURL(), TLSClientConfig: rest.TLSClientConfig{
		CAData: cert.CAPEM, CertData: cert.CertPEM, KeyData: cert.KeyPEM}}, nil
}

// authorization is the member's authorizer chain and rule resolver, in
// kube-apiserver's order: other authorizers (the node authorizer) first,
// RBAC last; the first that allows or denies decides. system:masters is
// allowed before any of them (control/api).
type authorization struct {
	ix   *rbac.Index
	rbac *rbac.Authorizer
	stop context.CancelFunc
	done chan struct{}
}

// writeTracker is the store as the API writes to it, remembering the
// latest revision of a write through this member: on a follower a
// forwarded write is acknowledged before this member applies it, and a
// decision right after it must still see it.
type writeTracker struct {
	*store.Store
	last atomic.Uint64
}

func (w *writeTracker) Txn(ctx context.Context, t store.Txn) (store.TxnResult, error) {
	res, err := w.Store.Txn(ctx, t)
	for cur := w.last.Load(); err == nil && res.Revision > cur && !w.last.CompareAndSwap(cur, res.Revision); cur = w.last.Load() {
	}
	return res, err
}

// revision is what a decision must see: this member's applied revision
// or its latest write, whichever is later.
func (w *writeTracker) revision() uint64 { return max(w.Store.Revision(), w.last.Load()) }

// startAuthorization starts the RBAC index (fed by the store's watch) and
// returns the union to give the API. before are authorizers consulted
// ahead of RBAC.
func (m *Member) startAuthorization(writes *writeTracker, before ...union.NamedAuthorizer) (authorizer.Authorizer, authorizer.RuleResolver, error) {
	ix := rbac.NewIndex(m.Store, m.log)
	ra := rbac.NewAuthorizer(ix, writes.revision)
	ctx, cancel := context.WithCancel(context.Background())
	m.authz = &authorization{ix: ix, rbac: ra, stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(m.authz.done)
		ix.Run(ctx)
	}()
	chain := append(append([]union.NamedAuthorizer(nil), before...), union.NamedAuthorizer{AuthorizerName: "RBAC", Authorizer: ra})
	a, err := union.New(chain...)
	if err != nil {
		return nil, nil, err
	}
	var resolvers []authorizer.RuleResolver
	for _, b := range before {
		if r, ok := b.Authorizer.(authorizer.RuleResolver); ok {
			resolvers = append(resolvers, r)
		}
	}
	return a, union.NewRuleResolvers(append(resolvers, ra)...), nil
}

// stopAuthorization stops the RBAC index and waits. Idempotent.
func (m *Member) stopAuthorization() {
	if m.authz != nil && m.authz.stop != nil {
		m.authz.stop()
		<-m.authz.done
		m.authz.stop = nil
	}
}
