package node

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/weirnet/weir/control/nodestream"
	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

// nodeIdentity is the agent's client certificate (CN system:node:NAME, O
// system:nodes) and its key, kept in DataDir/pki (node.key, node.crt,
// 0600 in a 0700 dir) like the kubelet's kubelet-client-current.pem. The
// key is written before the request that uses it, so an agent that dies
// mid-bootstrap asks again with the key the control plane bound.
//
// The cluster CA bundle the agent trusts is the one the control plane
// last sent with a certificate (DataDir/pki/ca.crt) and --ca-file: a CA
// rotation reaches the agent with its next renewal, and the agent renews
// as soon as it meets a server whose certificate another CA signed than
// its own (renewNow). --ca-file stays trusted (a node kept across a
// reinstalled control plane still reaches it); replacing it with the new
// ca.crt after a rotation stops trusting the old CA.
type nodeIdentity struct {
	dir      string
	node     string
	fileCA   []byte // --ca-file
	pool     atomic.Pointer[x509.CertPool]
	poolPEM  atomic.Pointer[[]byte]
	cur      atomic.Pointer[tls.Certificate]
	renewNow chan struct{} // signalled when a server's CA differs from the certificate's

	mu      sync.Mutex
	renewed []func() // called after each new certificate
}

// onRenew calls fn after each new certificate (connections made with the
// previous one keep presenting it).
func (id *nodeIdentity) onRenew(fn func()) {
	id.mu.Lock()
	defer id.mu.Unlock()
	id.renewed = append(id.renewed, fn)
}

func newNodeIdentity(dataDir, node string, caPEM []byte) (*nodeIdentity, error) {
	id := &nodeIdentity{dir: filepath.Join(dataDir, "pki"), node: node, fileCA: caPEM, renewNow: make(chan struct{}, 1)}
	if err := id.setRoots(nil); err != nil {
		return nil, errors.New("agent: the CA file holds no PEM certificate")
	}
	if b, err := os.ReadFile(id.caFile()); err == nil {
		_ = id.setRoots(b)
	}
	if c, err := id.load(); err == nil {
		id.cur.Store(c)
	}
	return id, nil
}

func (id *nodeIdentity) caFile() string { return filepath.Join(id.dir, "ca.crt") }

// setRoots trusts bundle (the control plane's, may be nil) and --ca-file.
func (id *nodeIdentity) setRoots(bundle []byte) error {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(id.fileCA) {
		return errors.New("no PEM certificate")
	}
	if len(bundle) > 0 && !pool.AppendCertsFromPEM(bundle) {
		return errors.New("no PEM certificate")
	}
	id.pool.Store(pool)
	b := append([]byte{}, bundle...)
	id.poolPEM.Store(&b)
	return nil
}

// roots is the trusted cluster CA bundle.
func (id *nodeIdentity) roots() *x509.CertPool { return id.pool.Load() }

// rootsPEM is the control plane's bundle in force (PEM; nil before any).
func (id *nodeIdentity) rootsPEM() []byte { return *id.poolPEM.Load() }

// serverCert sees a control member's verified chain: a leaf another CA
// signed than the one that signed this node's certificate (a CA
// rotation) asks for a renewal now.
func (id *nodeIdentity) serverCert(chain []*x509.Certificate) {
	c := id.cur.Load()
	if c == nil || c.Leaf == nil || len(chain) == 0 {
		return
	}
	if bytes.Equal(chain[0].AuthorityKeyId, c.Leaf.AuthorityKeyId) {
		return
	}
	select {
	case id.renewNow <- struct{}{}:
	default:
	}
}

func (id *nodeIdentity) keyFile() string  { return filepath.Join(id.dir, "node.key") }
func (id *nodeIdentity) certFile() string { return filepath.Join(id.dir, "node.crt") }

// certificate is the current certificate (nil before bootstrap), for
// every TLS handshake with a control member.
func (id *nodeIdentity) certificate() (*tls.Certificate, error) { return id.cur.Load(), nil }

// load reads the stored certificate if it is this node's, from the
// cluster CA, and not expired.
func (id *nodeIdentity) load() (*tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(id.certFile(), id.keyFile())
	if err != nil {
		return nil, err
	}
	if err := id.check(c.Leaf); err != nil {
		return nil, err
	}
	return &c, nil
}

func (id *nodeIdentity) check(leaf *x509.Certificate) error {
	if name, ok := nodestream.NodeOfCert(leaf); !ok || name != id.node {
		return fmt.Errorf("the stored certificate is %s's, not node %s's", leaf.Subject, id.node)
	}
	return checkAgainst(leaf, id.roots())
}

func checkAgainst(leaf *x509.Certificate, roots *x509.CertPool) error {
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		return fmt.Errorf("the stored certificate: %w", err)
	}
	return nil
}

// renewAt is when the current certificate should be renewed: after two
// thirds of its lifetime (the kubelet rotates between 70 and 90%).
func (id *nodeIdentity) renewAt() time.Time {
	c := id.cur.Load()
	if c == nil {
		return time.Time{}
	}
	life := c.Leaf.NotAfter.Sub(c.Leaf.NotBefore)
	return c.Leaf.NotBefore.Add(life * 2 / 3)
}

// key is the stored key, or a new one written first when there is none
// (or fresh is set: a renewal rotates the key).
func (id *nodeIdentity) key(fresh bool) (*ecdsa.PrivateKey, error) {
	if !fresh {
		if data, err := os.ReadFile(id.keyFile()); err == nil {
			if b, _ := pem.Decode(data); b != nil {
				if k, err := x509.ParseECPrivateKey(b.Bytes); err == nil {
					return k, nil
				}
			}
		}
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		return nil, err
	}
	if fresh { // keep the current key until the new certificate is stored
		return k, nil
	}
	return k, id.write(id.keyFile(), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
}

func (id *nodeIdentity) write(path string, data []byte) error {
	if err := os.MkdirAll(id.dir, 0o700); err != nil {
		return err
	}
	if err := os.Chmod(id.dir, 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// request asks client for a certificate for key and stores both.
func (id *nodeIdentity) request(ctx context.Context, client pb.NodeStreamClient, key *ecdsa.PrivateKey) error {
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: nodestream.NodeUserPrefix + id.node, Organization: []string{nodestream.NodesGroup}}}, key)
	if err != nil {
		return err
	}
	resp, err := client.RequestCertificate(ctx, &pb.CertificateRequest{NodeName: id.node,
		CsrPem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})})
	if err != nil {
		return err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	c, err := tls.X509KeyPair(resp.CertPem, keyPEM)
	if err != nil {
		return fmt.Errorf("the signed certificate: %w", err)
	}
	// The answer came over a connection verified with the current bundle;
	// its CA bundle (both CAs during a rotation) is trusted from now on.
	roots := id.roots()
	if len(resp.CaPem) > 0 {
		roots = x509.NewCertPool()
		roots.AppendCertsFromPEM(id.fileCA)
		if !roots.AppendCertsFromPEM(resp.CaPem) {
			return errors.New("the control plane's CA bundle holds no PEM certificate")
		}
	}
	if name, ok := nodestream.NodeOfCert(c.Leaf); !ok || name != id.node {
		return fmt.Errorf("the signed certificate is %s's, not node %s's", c.Leaf.Subject, id.node)
	}
	if err := checkAgainst(c.Leaf, roots); err != nil {
		return err
	}
	if len(resp.CaPem) > 0 && !bytes.Equal(resp.CaPem, id.rootsPEM()) {
		if err := id.write(id.caFile(), resp.CaPem); err != nil {
			return err
		}
		_ = id.setRoots(resp.CaPem)
	}
	if err := id.write(id.keyFile(), keyPEM); err != nil {
		return err
	}
	if err := id.write(id.certFile(), resp.CertPem); err != nil {
		return err
	}
	id.cur.Store(&c)
	id.mu.Lock()
	fns := append([]func(){}, id.renewed...)
	id.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
	return nil
}

// ensureCertificate bootstraps the node's certificate with the bootstrap
// token when it has none (or an expired or foreign one), retrying with
// backoff until ctx ends; a refusal (the name belongs to another node's
// key, a name the control plane does not accept) ends the agent.
func (a *Agent) ensureCertificate(ctx context.Context) error {
	if a.id.cur.Load() != nil {
		return nil
	}
	if a.cfg.BootstrapToken == "" {
		return fmt.Errorf("agent: no client certificate in %s and no bootstrap token: pass --bootstrap-token-file (weir token create)", a.id.dir)
	}
	client, conn, err := nodestream.Dial(nodestream.DialConfig{Addr: a.cfg.Server, Roots: a.id.roots, ServerName: a.cfg.ServerName, BootstrapToken: a.cfg.BootstrapToken})
	if err != nil {
		return err
	}
	defer conn.Close()
	delay := a.cfg.Backoff
	for {
		key, err := a.id.key(false)
		if err != nil {
			return fmt.Errorf("agent: node key: %w", err)
		}
		err = a.id.request(ctx, client, key)
		if err == nil {
			a.log.Info("node client certificate bootstrapped", "expires", a.id.cur.Load().Leaf.NotAfter.Format(time.RFC3339), "dir", a.id.dir)
			return nil
		}
		if c := status.Code(err); c == codes.PermissionDenied || c == codes.InvalidArgument {
			return fmt.Errorf("agent: the control plane refused to issue the node certificate: %w", err)
		}
		a.log.Warn("bootstrap of the node certificate failed; retrying", "error", err, "retry", delay)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
	}
}

// renewLoop renews the certificate with the current one after two thirds
// of its lifetime, with a new key; a failure is retried after a tenth of
// the time left (at least a second).
func (a *Agent) renewLoop(ctx context.Context) {
	for {
		wait := time.Until(a.id.renewAt())
		select {
		case <-ctx.Done():
			return
		case <-time.After(max(wait, time.Second)):
		case <-a.id.renewNow:
			a.log.Info("a control member's certificate is from another CA than the node's (a CA rotation): renewing")
		}
		key, err := a.id.key(true)
		if err == nil {
			err = a.id.request(ctx, a.client, key)
		}
		if err == nil {
			a.log.Info("node client certificate renewed", "expires", a.id.cur.Load().Leaf.NotAfter.Format(time.RFC3339))
			continue
		}
		if ctx.Err() != nil {
			return
		}
		left := time.Until(a.id.cur.Load().Leaf.NotAfter)
		retry := max(left/10, time.Second)
		a.log.Warn("renewal of the node certificate failed", "error", err, "expires in", left.Round(time.Second), "retry", retry)
		select {
		case <-ctx.Done():
			return
		case <-time.After(retry):
		case <-a.id.renewNow:
		}
	}
}
