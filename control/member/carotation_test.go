package member

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/weirnet/weir/control/controllers"
	"github.com/weirnet/weir/control/nodestream"
	"github.com/weirnet/weir/control/store"
	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

// renewNode renews a node's certificate the way the agent does: a new key
// and RequestCertificate with the current certificate. It returns the new
// certificate and the CA bundle the answer carries.
func renewNode(t *testing.T, m *Member, caPEM []byte, cur *tls.Certificate, node string) (*tls.Certificate, []byte) {
	t.Helper()
	return requestNodeCert(t, m, nodestream.DialConfig{CAPEM: caPEM, Certificate: func() (*tls.Certificate, error) { return cur, nil }}, node)
}

// nodeCall is one authenticated node-stream RPC (Register) with cert,
// trusting caPEM: nil when the server accepted the certificate.
func nodeCall(m *Member, caPEM []byte, cert *tls.Certificate, node string) error {
	c, conn, err := nodestream.Dial(nodestream.DialConfig{Addr: m.NodeStreamAddr(), CAPEM: caPEM, ServerName: "127.0.0.1",
		Certificate: func() (*tls.Certificate, error) { return cert, nil }})
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = c.Register(ctx, &pb.RegisterRequest{NodeName: node, Addresses: []string{"192.0.2.10"}})
	return err
}

// peerHandshake dials m's peer port as a member with cert (trusting
// nothing: only the server's verdict matters); nil when accepted.
func peerHandshake(m *Member, cert tls.Certificate) error {
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 2 * time.Second}, Config: &tls.Config{MinVersion: tls.VersionTLS13,
		InsecureSkipVerify: true, NextProtos: []string{"weir-peer/1"},
		// Presented whatever CAs the server names.
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }}}
	c, err := d.Dial("tcp", m.Store.PeerAddr())
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	_, err = io.ReadFull(c, make([]byte, 9))
	return err
}

// tlsRead handshakes with addr and reads: the server's verdict on the
// client certificate (TLS 1.3) comes with the first read.
func tlsRead(addr string, cfg *tls.Config) error {
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 2 * time.Second}, Config: cfg}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	_, err = io.ReadFull(c, make([]byte, 9))
	return err
}

func countCerts(b []byte) int { return bytes.Count(b, []byte("BEGIN CERTIFICATE")) }

func poolOf(pemData []byte) *x509.CertPool {
	p := x509.NewCertPool()
	p.AppendCertsFromPEM(pemData)
	return p
}

// TestRotateClusterCA: on two members with a node stream and controllers,
// `weir certs rotate-ca` (OpRotateCA) makes a new CA sign while the old
// one stays trusted: clients, users and nodes holding only the old CA
// and old certificates keep working, new certificates come from the new
// CA, ca.crt and kube-root-ca.crt hold both, members renew their peer
// certificates. Finishing is refused while a node has not renewed; after
// it, certificates of the old CA are refused (API 401, TLS errors on the
// node stream and the peer port) and the new ones, and the members, work.
func TestRotateClusterCA(t *testing.T) {
	m1, ctx, admin, tok := nodeTestMember(t)
	d2 := t.TempDir()
	if err := os.WriteFile(filepath.Join(d2, "cluster-secret"), mustRead(t, filepath.Join(m1.cfg.DataDir, "cluster-secret")), 0o600); err != nil {
		t.Fatal(err)
	}
	m2 := startMember(t, Config{Name: "m2", DataDir: d2, Join: []string{m1.Store.PeerAddr()}})
	eventually := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	eventually("the node stream serving", func() bool { return m1.NodeStreamAddr() != "" && m1.tls.CA() != nil })

	oldPEM := m1.CACert()
	oldCA := m1.tls.CA()
	oldSigner, oldKey := oldCA.Signer()
	oldTrust := &tls.Config{RootCAs: poolOf(oldPEM)}
	oldUser, _ := userTLS(t, m1, "alice")
	oldNode := bootstrapNode(t, m1, tok, "node-a")
	oldMember := clientCert(t, oldSigner, oldKey, "weir:member:ghost", "weir:members")
	// clientCert makes client certificates; the peer port wants weir.members too.
	if err := peerHandshake(m1, oldMember); err != nil {
		t.Fatalf("before the rotation, a member certificate of the CA: %v", err)
	}
	if err := nodeCall(m1, oldPEM, oldNode, "node-a"); err != nil {
		t.Fatalf("before the rotation, node-a: %v", err)
	}

	var started RotateCAResult
	if err := store.CallAt(ctx, m1.cfg.DataDir, m1.Store.PeerAddr(), OpRotateCA, &RotateCARequest{}, &started); err != nil {
		t.Fatal(err)
	}
	t.Logf("started: %+v", started)
	if err := store.CallAt(ctx, m1.cfg.DataDir, m1.Store.PeerAddr(), OpRotateCA, &RotateCARequest{}, nil); err == nil ||
		!strings.Contains(err.Error(), "finish it first") {
		t.Fatalf("a second rotation during the transition: %v", err)
	}
	for _, m := range []*Member{m1, m2} {
		eventually(m.cfg.Name+" adopting the new CA", func() bool { ca := m.tls.CA(); return ca != nil && ca.Rotating() })
		if n := countCerts(mustRead(t, filepath.Join(m.cfg.DataDir, "ca.crt"))); n != 2 {
			t.Fatalf("%s: ca.crt holds %d certificates during the transition, want 2", m.cfg.Name, n)
		}
	}
	newCA := m1.tls.CA()
	newSigner, _ := newCA.Signer()

	// Phase 1: the old trust and old certificates still work everywhere.
	for _, m := range []*Member{m1, m2} {
		if code, body := get(t, m, oldTrust, m.Store.Token(), "/api/v1/namespaces"); code != 200 {
			t.Fatalf("%s with only the old CA trusted: %d %s", m.cfg.Name, code, body)
		}
		if code, body := get(t, m, withCert(m, oldUser), "", "/api/v1/namespaces/default/pods"); code == 401 {
			t.Fatalf("%s: the old user certificate during the transition: %d %s", m.cfg.Name, code, body)
		}
	}
	newUser, newLeaf := userTLS(t, m1, "bob")
	if newLeaf.CheckSignatureFrom(newSigner) != nil {
		t.Fatalf("a user certificate issued during the transition is from %s", newLeaf.Issuer)
	}
	if code, body := get(t, m2, withCert(m2, newUser), "", "/api/v1/namespaces/default/pods"); code == 401 {
		t.Fatalf("the new user certificate: %d %s", code, body)
	}
	if err := nodeCall(m1, oldPEM, oldNode, "node-a"); err != nil {
		t.Fatalf("during the transition, node-a's old certificate trusting the old CA: %v", err)
	}
	oldNodeB := bootstrapNode(t, m1, tok, "node-b") // signed by the new CA, verified by its bundle
	if oldNodeB.Leaf == nil {
		oldNodeB.Leaf, _ = x509.ParseCertificate(oldNodeB.Certificate[0])
	}
	if oldNodeB.Leaf.CheckSignatureFrom(newSigner) != nil {
		t.Fatal("a node bootstrapped during the transition did not get a certificate of the new CA")
	}
	eventually("m2's peer certificate from the new CA", func() bool {
		blk, _ := pem.Decode(mustRead(t, filepath.Join(d2, "peer.crt")))
		leaf, err := x509.ParseCertificate(blk.Bytes)
		return err == nil && leaf.CheckSignatureFrom(newSigner) == nil
	})
	// A member joining during the transition gets a certificate of the new
	// CA (chained through the cross-signed one) and joins.
	d3 := t.TempDir()
	if err := os.WriteFile(filepath.Join(d3, "cluster-secret"), mustRead(t, filepath.Join(m1.cfg.DataDir, "cluster-secret")), 0o600); err != nil {
		t.Fatal(err)
	}
	m3 := startMember(t, Config{Name: "m3", DataDir: d3, Join: []string{m1.Store.PeerAddr()}})
	eventually("m3 adopting the rotating CA", func() bool { ca := m3.tls.CA(); return ca != nil && ca.Rotating() })
	if _, err := store.Create(ctx, m3.Store, store.Key{Resource: "secrets", Namespace: "default", Name: "from-m3"}, []byte("v")); err != nil {
		t.Fatalf("write through the member that joined during the transition: %v", err)
	}
	eventually("kube-root-ca.crt with both CAs", func() bool {
		cm, err := admin.CoreV1().ConfigMaps("default").Get(ctx, controllers.RootCAConfigMap, metav1.GetOptions{})
		return err == nil && countCerts([]byte(cm.Data["ca.crt"])) == 2
	})

	// Finishing waits for node-a.
	err := store.CallAt(ctx, m1.cfg.DataDir, m1.Store.PeerAddr(), OpRotateCA, &RotateCARequest{Finish: true}, nil)
	if err == nil || !strings.Contains(err.Error(), "node node-a") {
		t.Fatalf("finish before node-a renewed: %v", err)
	}
	newNode, bundle := renewNode(t, m1, oldPEM, oldNode, "node-a")
	if countCerts(bundle) != 2 || newNode.Leaf.CheckSignatureFrom(newSigner) != nil {
		t.Fatalf("renewal during the transition: bundle of %d, issuer %s", countCerts(bundle), newNode.Leaf.Issuer)
	}
	var finished RotateCAResult
	if err := store.CallAt(ctx, m1.cfg.DataDir, m1.Store.PeerAddr(), OpRotateCA, &RotateCARequest{Finish: true}, &finished); err != nil {
		t.Fatal(err)
	}
	t.Logf("finished: %+v", finished)
	for _, m := range []*Member{m1, m2, m3} {
		eventually(m.cfg.Name+" dropping the old CA", func() bool { ca := m.tls.CA(); return ca != nil && !ca.Rotating() })
		if n := countCerts(mustRead(t, filepath.Join(m.cfg.DataDir, "ca.crt"))); n != 1 {
			t.Fatalf("%s: ca.crt holds %d certificates after finish", m.cfg.Name, n)
		}
	}
	newPEM := m1.CACert()

	// After: the old CA is refused everywhere.
	for _, m := range []*Member{m1, m2} {
		code, body := get(t, m, withCert(m, oldUser), "", "/api/v1/namespaces/default/pods")
		if code != 401 {
			t.Fatalf("%s: the old user certificate after finish: %d %s", m.cfg.Name, code, body)
		}
		if code, body := get(t, m, withCert(m, newUser), "", "/api/v1/namespaces/default/pods"); code == 401 {
			t.Fatalf("%s: the new user certificate after finish: %d %s", m.cfg.Name, code, body)
		}
	}
	if err := nodeCall(m1, newPEM, oldNode, "node-a"); err == nil {
		t.Fatal("node-a's old certificate was accepted after finish")
	}
	// gRPC reports a broken connection; the TLS alert itself says why.
	err = tlsRead(m1.NodeStreamAddr(), &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: poolOf(newPEM), ServerName: "127.0.0.1",
		NextProtos: []string{"h2"}, GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return oldNode, nil }})
	if err == nil || !strings.Contains(err.Error(), "tls: unknown certificate authority") {
		t.Fatalf("node-a's old certificate on the node stream after finish: %v", err)
	}
	t.Logf("old node certificate on the node stream: %v", err)
	if err := peerHandshake(m1, oldMember); err == nil || !strings.Contains(err.Error(), "tls: unknown certificate authority") {
		t.Fatalf("a member certificate of the old CA on the peer port after finish: %v", err)
	} else {
		t.Logf("old member certificate on the peer port: %v", err)
	}
	if err := nodeCall(m1, newPEM, newNode, "node-a"); err != nil {
		t.Fatalf("node-a's renewed certificate after finish: %v", err)
	}
	// The members still replicate; the controllers (new identities) publish the new bundle.
	key := store.Key{Resource: "secrets", Namespace: "default", Name: "after-ca-rotation"}
	if _, err := store.Create(ctx, m2.Store, key, []byte("v")); err != nil {
		t.Fatalf("write through m2 after finish: %v", err)
	}
	if _, err := store.Create(ctx, m3.Store, store.Key{Resource: "secrets", Namespace: "default", Name: "from-m3-after"}, []byte("v")); err != nil {
		t.Fatalf("write through m3 after finish: %v", err)
	}
	admin2, err := kubernetes.NewForConfig(m1.leaderRESTConfig()) // trusts the new CA only
	if err != nil {
		t.Fatal(err)
	}
	eventually("kube-root-ca.crt with the new CA only", func() bool {
		cm, err := admin2.CoreV1().ConfigMaps("default").Get(ctx, controllers.RootCAConfigMap, metav1.GetOptions{})
		return err == nil && countCerts([]byte(cm.Data["ca.crt"])) == 1 && strings.TrimSpace(cm.Data["ca.crt"]) == strings.TrimSpace(string(newPEM))
	})
	// A client trusting only the old CA no longer verifies the members.
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: oldTrust}}
	defer hc.CloseIdleConnections()
	if _, err := hc.Get(m2.APIURL() + "/livez"); err == nil || !strings.Contains(err.Error(), "certificate signed by unknown authority") {
		t.Fatalf("a client trusting only the old CA after finish: %v", err)
	}
}
