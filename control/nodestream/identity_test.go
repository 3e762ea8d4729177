package nodestream

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/weirnet/weir/control/store"
	pb "github.com/weirnet/weir/vocab/nodestreampb"

	"github.com/weirnet/weir/tests/testutil"
)

// putBootstrapToken stores tok's Secret as the API would (stringData
// folded into data).
func (e *env) putBootstrapToken(tok string, ttl time.Duration) {
	e.t.Helper()
	sec, err := BootstrapTokenSecret(tok, ttl, "test")
	if err != nil {
		e.t.Fatal(err)
	}
	sec.Data = map[string][]byte{}
	for k, v := range sec.StringData {
		sec.Data[k] = []byte(v)
	}
	sec.StringData = nil
	e.put("secrets", sec.Namespace, sec.Name, sec)
}

// csrFor is a key and a CSR for node (subject overridable).
func csrFor(t *testing.T, subject pkix.Name, ips ...net.IP) (*ecdsa.PrivateKey, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: subject, IPAddresses: ips}, key)
	if err != nil {
		t.Fatal(err)
	}
	return key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

func nodeSubject(node string) pkix.Name {
	return pkix.Name{CommonName: NodeUserPrefix + node, Organization: []string{NodesGroup}}
}

// TestBootstrapCertificate: a bootstrap token gets a node its client
// certificate from a CSR, bound to the first key that asked for the name;
// the certificate then works for that node only; renewal with it rebinds;
// a deleted Node frees its name.
func TestBootstrapCertificate(t *testing.T) {
	e := newEnv(t, nil)
	const tok = "abcdef.0123456789abcdef"
	e.putBootstrapToken(tok, time.Hour)
	e.putBootstrapToken("expire.0123456789abcdef", -time.Minute)
	boot := e.dial(DialConfig{BootstrapToken: tok})

	key, csr := csrFor(t, nodeSubject("node-a"))
	resp, err := boot.RequestCertificate(ctxT(t), &pb.CertificateRequest{NodeName: "node-a", CsrPem: csr})
	if err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	if !bytes.Equal(resp.CaPem, e.ca.CertPEM) {
		t.Error("the response carries another CA")
	}
	blk, _ := pem.Decode(resp.CertPem)
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if cert.Subject.CommonName != "system:node:node-a" || len(cert.Subject.Organization) != 1 || cert.Subject.Organization[0] != "system:nodes" {
		t.Errorf("subject %s", cert.Subject)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(e.ca.CertPEM)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("not a client certificate of the cluster CA: %v", err)
	}
	pair := &tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key}
	a := e.dial(DialConfig{Certificate: func() (*tls.Certificate, error) { return pair, nil }})
	if _, err := a.Register(ctxT(t), &pb.RegisterRequest{NodeName: "node-a", Addresses: []string{"192.0.2.1"}}); err != nil {
		t.Fatalf("register with the bootstrapped certificate: %v", err)
	}

	// The token only asks for certificates.
	if _, err := boot.Register(ctxT(t), &pb.RegisterRequest{NodeName: "node-x", Addresses: []string{"192.0.2.9"}}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("register with a bootstrap token: %v, want Unauthenticated", err)
	}
	// Same name, another key: owned by node-a's credential.
	_, csr2 := csrFor(t, nodeSubject("node-a"))
	if _, err := boot.RequestCertificate(ctxT(t), &pb.CertificateRequest{NodeName: "node-a", CsrPem: csr2}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("bootstrap of a name another key owns: %v, want PermissionDenied", err)
	}
	// The same key again (an agent that lost its certificate): fine.
	if _, err := boot.RequestCertificate(ctxT(t), &pb.CertificateRequest{NodeName: "node-a", CsrPem: csr}); err != nil {
		t.Errorf("bootstrap again with the owning key: %v", err)
	}
	// Bad requests.
	for name, req := range map[string]*pb.CertificateRequest{
		"CN of another node": {NodeName: "node-b", CsrPem: csr},
		"wrong group": {NodeName: "node-b", CsrPem: func() []byte {
			_, c := csrFor(t, pkix.Name{CommonName: "system:node:node-b", Organization: []string{"system:masters"}})
			return c
		}()},
		"with an IP SAN": {NodeName: "node-b", CsrPem: func() []byte { _, c := csrFor(t, nodeSubject("node-b"), net.ParseIP("127.0.0.1")); return c }()},
		"localhost":      {NodeName: "localhost", CsrPem: func() []byte { _, c := csrFor(t, nodeSubject("localhost")); return c }()},
		"not PEM":        {NodeName: "node-b", CsrPem: []byte("junk")},
	} {
		if _, err := boot.RequestCertificate(ctxT(t), req); status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: %v, want InvalidArgument", name, err)
		}
	}
	// Wrong secret, expired, unknown: Unauthenticated.
	for _, bad := range []string{"abcdef.0123456789abcdeX", "abcdef.aaaaaaaaaaaaaaaa", "expire.0123456789abcdef", "zzzzzz.0123456789abcdef", "garbage"} {
		c := e.dial(DialConfig{BootstrapToken: bad})
		if _, err := c.RequestCertificate(ctxT(t), &pb.CertificateRequest{NodeName: "node-c", CsrPem: csr}); status.Code(err) != codes.Unauthenticated {
			t.Errorf("token %q: %v, want Unauthenticated", bad, err)
		}
	}

	// Renewal: node-a's certificate gets a new one for a new key, for
	// node-a only; the old key no longer owns the name.
	key3, csr3 := csrFor(t, nodeSubject("node-a"))
	if _, err := a.RequestCertificate(ctxT(t), &pb.CertificateRequest{NodeName: "node-a", CsrPem: csr3}); err != nil {
		t.Fatalf("renewal: %v", err)
	}
	_ = key3
	_, csrB := csrFor(t, nodeSubject("node-b"))
	if _, err := a.RequestCertificate(ctxT(t), &pb.CertificateRequest{NodeName: "node-b", CsrPem: csrB}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("node-a asking for node-b's certificate: %v, want PermissionDenied", err)
	}
	if _, err := boot.RequestCertificate(ctxT(t), &pb.CertificateRequest{NodeName: "node-a", CsrPem: csr}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("bootstrap with the key renewal replaced: %v, want PermissionDenied", err)
	}
	// A deleted Node frees its name.
	e.del(resNodes, "", "node-a")
	if _, err := boot.RequestCertificate(ctxT(t), &pb.CertificateRequest{NodeName: "node-a", CsrPem: csr2}); err != nil {
		t.Errorf("bootstrap of a deleted node's name: %v", err)
	}
}

// TestNodeCannotActForAnother: with node-a's certificate, registering or
// subscribing as node-b, reporting node-b's pod status or sending events
// about its pod is refused (PermissionDenied), logged, and changes
// nothing of node-b's.
func TestNodeCannotActForAnother(t *testing.T) {
	logs := &testutil.SyncBuffer{}
	e := newEnv(t, func(_ *store.Config, c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	})
	e.register("node-a", "192.0.2.1")
	e.register("node-b", "192.0.2.2")
	victim := pod("victim", "node-b")
	victim.UID = types.UID("u-victim")
	victim.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.244.1.5"}
	e.put(resPods, "default", "victim", victim)
	before, _ := e.storedPod("victim")

	a := e.client("node-a")
	if _, err := a.Register(ctxT(t), &pb.RegisterRequest{NodeName: "node-b", Addresses: []string{"198.51.100.6"}}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("register as node-b: %v, want PermissionDenied", err)
	}
	s, err := a.Watch(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	s.Send(&pb.AgentMessage{Msg: &pb.AgentMessage_Subscribe{Subscribe: &pb.Subscribe{NodeName: "node-b"}}})
	if m, err := s.Recv(); status.Code(err) != codes.PermissionDenied {
		t.Errorf("subscribe as node-b: %v %v, want PermissionDenied", m, err)
	}

	forged, _ := json.Marshal(corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "6.6.6.6"})
	for name, msg := range map[string]*pb.AgentMessage{
		"pod status": {Msg: &pb.AgentMessage_PodStatus{PodStatus: &pb.PodStatus{Namespace: "default", Name: "victim", Uid: "u-victim", StatusJson: forged}}},
		"pod event": {Msg: &pb.AgentMessage_PodEvent{PodEvent: &pb.PodEvent{Namespace: "default", Name: "victim", Uid: "u-victim",
			Type: corev1.EventTypeWarning, Reason: "Forged", Message: "x", UnixNano: time.Now().UnixNano()}}},
	} {
		ag := e.watch("node-a", nil)
		ag.snapshots()
		if err := ag.stream.Send(msg); err != nil {
			t.Fatal(err)
		}
		var err error
		deadline := time.After(20 * time.Second)
	wait:
		for {
			select {
			case _, ok := <-ag.msgs:
				if !ok {
					_, err = ag.stream.Recv()
					break wait
				}
			case <-deadline:
				t.Fatalf("%s: the stream stayed open", name)
			}
		}
		if status.Code(err) != codes.PermissionDenied {
			t.Errorf("%s for node-b's pod: stream ended with %v, want PermissionDenied", name, err)
		}
	}
	after, _ := e.storedPod("victim")
	if after.Status.PodIP != before.Status.PodIP || after.ResourceVersion != before.ResourceVersion {
		t.Errorf("node-b's pod changed: podIP %s, resourceVersion %s -> %s", after.Status.PodIP, before.ResourceVersion, after.ResourceVersion)
	}
	if n := e.node("node-b"); n.Status.Addresses[1].Address != "192.0.2.2" {
		t.Errorf("node-b's address changed to %s", n.Status.Addresses[1].Address)
	}
	if got := e.storedEvents("default"); len(got) != 0 {
		t.Errorf("events were written about node-b's pod: %v", got)
	}
	out := logs.String()
	for _, what := range []string{"what=register", "what=subscribe", `what="pod status"`, `what="pod event"`} {
		if !strings.Contains(out, "refused a request for another node") || !strings.Contains(out, what) {
			t.Errorf("no refusal logged for %s in:\n%s", what, out)
		}
	}
}

// TestServingCertNamesOnlyOwnAddresses: a node that registers loopback,
// unspecified or a member's address gets a serving certificate without
// them (and no localhost name).
func TestServingCertNamesOnlyOwnAddresses(t *testing.T) {
	e := newEnv(t, func(_ *store.Config, c *Config) {
		c.Members = func(ctx context.Context) ([]store.Member, error) {
			return []store.Member{{Name: "m1", PeerAddr: "192.0.2.100:2380", APIAddr: "192.0.2.100:6443"}}, nil
		}
	})
	resp, err := e.client("n1").Register(ctxT(t), &pb.RegisterRequest{NodeName: "n1", ApiPort: 10250,
		Addresses: []string{"127.0.0.1", "192.0.2.7", "::1", "0.0.0.0", "192.0.2.100", "::ffff:127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(resp.ServingCertPem)
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if len(cert.IPAddresses) != 1 || !cert.IPAddresses[0].Equal(net.ParseIP("192.0.2.7")) {
		t.Errorf("IP SANs %v, want only 192.0.2.7", cert.IPAddresses)
	}
	if len(cert.DNSNames) != 1 || cert.DNSNames[0] != "n1" {
		t.Errorf("DNS SANs %v, want only n1", cert.DNSNames)
	}
	// A node named localhost cannot register (its name would be a SAN).
	if _, err := e.client("localhost").Register(ctxT(t), &pb.RegisterRequest{NodeName: "localhost", Addresses: []string{"192.0.2.8"}, ApiPort: 10250}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("register localhost: %v, want InvalidArgument", err)
	}
}
