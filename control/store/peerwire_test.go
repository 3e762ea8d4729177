package store_test

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
	"errors"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/weirnet/weir/control/store"
	"github.com/weirnet/weir/control/store/storetest"
	"github.com/weirnet/weir/tests/testutil"
)

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestPeerWireCarriesNoPlaintext runs every kind of peer traffic through
// recording relays: the join exchange, raft replication and forwarded
// writes (m2 has no CA: it gets its member certificate by joining). The
// capture holds no token, Secret value, CA key or cluster secret, and not
// even an unencrypted ConfigMap value.
func TestPeerWireCarriesNoPlaintext(t *testing.T) {
	ctx := ctxT(t)
	p1, p2 := freePort(t), freePort(t)
	r1, r2 := testutil.NewRelay(t, p1), testutil.NewRelay(t, p2)

	c1 := storetest.Config("m1", t.TempDir())
	c1.Bootstrap, c1.PeerAddr, c1.Advertise = true, p1, r1.Addr()
	c1.Token = "token-PLAINTEXT-MARKER-1"
	m1 := storetest.Open(t, c1)

	c2 := storetest.Config("m2", t.TempDir())
	c2.CA, c2.Token, c2.PeerAddr, c2.Advertise, c2.Join = nil, "", p2, r2.Addr(), []string{r1.Addr()}
	noEncryptionConfig(t, c2) // received in the join exchange, through the relay
	m2 := storetest.Open(t, c2)
	waitVoters(t, m1, 2)
	if m2.Token() != c1.Token {
		t.Fatalf("joined member's token %q, want the cluster's", m2.Token())
	}
	for _, f := range []string{"peer.crt", store.EncryptionFile} {
		if _, err := os.Stat(filepath.Join(c2.DataDir, f)); err != nil {
			t.Fatalf("joined member has no %s: %v", f, err)
		}
	}

	secretVal := []byte(`{"kind":"Secret","data":{"password":"SECRET-PLAINTEXT-MARKER-2"}}`)
	caVal := []byte(`{"CertPEM":"x","KeyPEM":"-----BEGIN EC PRIVATE KEY-----CAKEY-PLAINTEXT-MARKER-3"}`)
	cmVal := []byte("CONFIGMAP-PLAINTEXT-MARKER-4")
	sec := store.Key{Resource: "secrets", Namespace: "default", Name: "s"}
	for _, w := range []struct {
		key store.Key
		val []byte
	}{{sec, secretVal}, {store.Key{Resource: "_nodestream", Name: "ca"}, caVal}, {cm("c"), cmVal}} {
		// Written on the follower: forwarded to the leader, replicated back.
		if _, err := store.Create(ctx, m2, w.key, w.val); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []*store.Store{m1, m2} {
		got, err := m.Get(ctx, sec, store.ReadOptions{})
		if err != nil || !bytes.Equal(got.Value, secretVal) {
			t.Fatalf("read secret: %q %v", got.Value, err)
		}
	}
	time.Sleep(200 * time.Millisecond)
	wire := append(r1.Captured(), r2.Captured()...)
	if len(wire) < 1000 {
		t.Fatalf("relays saw only %d bytes: the traffic did not go through them", len(wire))
	}
	// ALPN is the one cleartext name in a ClientHello: proof that the join
	// exchange, raft and the peer service all went through the relays.
	for _, proto := range []string{"weir-join/1", "weir-raft/1", "weir-peer/1"} {
		if !bytes.Contains(wire, []byte(proto)) {
			t.Errorf("relays never saw a %s connection", proto)
		}
	}
	encKey := storetest.Encryption().Resources[0].Providers[0].AESGCM.Keys[0].Secret
	for _, marker := range []string{"PLAINTEXT-MARKER", c1.Token, string(storetest.Secret), "CAKEY", "BEGIN EC PRIVATE KEY", encKey, "EncryptionConfiguration"} {
		if bytes.Contains(wire, []byte(marker)) {
			t.Errorf("peer wire carries %q in clear", marker)
		}
	}
	t.Logf("relays captured %d bytes, none of them plaintext", len(wire))
}

// TestStrangerGetsNothing: without a member certificate, the peer port
// fails the handshake for raft and the peer service; the join exchange
// with a wrong secret ends without a byte of application data; a client
// certificate from the cluster CA that is not a member's, or a member
// certificate from another CA, is refused.
func TestStrangerGetsNothing(t *testing.T) {
	s := storetest.New(t)
	ctx := ctxT(t)
	if _, err := store.Create(ctx, s, store.Key{Resource: "secrets", Namespace: "default", Name: "x"}, []byte("v")); err != nil {
		t.Fatal(err)
	}
	addr := s.PeerAddr()
	dial := func(cfg *tls.Config) ([]byte, error) {
		d := &tls.Dialer{Config: cfg, NetDialer: &net.Dialer{Timeout: 2 * time.Second}}
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		b, err := io.ReadAll(c)
		if len(b) == 0 && err == nil {
			err = io.EOF
		}
		return b, err
	}
	caCert, caKey := storetest.CA()
	otherCA, otherKey := newCA(t)
	for _, tc := range []struct {
		name  string
		proto string
		cert  *tls.Certificate
	}{
		{"raft without certificate", "weir-raft/1", nil},
		{"peer service without certificate", "weir-peer/1", nil},
		{"no ALPN", "", nil},
		{"node certificate from the cluster CA", "weir-peer/1", leafCert(t, caCert, caKey, pkix.Name{CommonName: "system:node:n1", Organization: []string{"system:nodes"}})},
		{"member certificate from another CA", "weir-raft/1", leafCert(t, otherCA, otherKey, pkix.Name{CommonName: "weir:member:evil", Organization: []string{"weir:members"}})},
	} {
		cfg := &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13}
		if tc.proto != "" {
			cfg.NextProtos = []string{tc.proto}
		}
		if tc.cert != nil {
			cfg.Certificates = []tls.Certificate{*tc.cert}
		}
		b, err := dial(cfg)
		if err == nil || len(b) > 0 {
			t.Errorf("%s: got %d bytes, err %v; want a failed handshake", tc.name, len(b), err)
		}
	}
	// The old plaintext handshake gets nothing either.
	raw, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = raw.SetDeadline(time.Now().Add(2 * time.Second))
	_, _ = raw.Write([]byte("WEIR-PEER-1\n"))
	if b, _ := io.ReadAll(raw); bytes.Contains(b, []byte("WEIR")) || bytes.Contains(b, []byte(`"v"`)) {
		t.Errorf("plaintext client got %q", b)
	}
	raw.Close()
	// The join exchange with a wrong secret: the member closes without a grant.
	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13, NextProtos: []string{"weir-join/1"}})
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	_ = json.NewEncoder(c).Encode(map[string]any{"Name": "evil", "PublicKey": pub, "Proof": bytes.Repeat([]byte{1}, 32)})
	if b, _ := io.ReadAll(c); len(b) > 0 {
		t.Errorf("join with a wrong secret got %d bytes: %q", len(b), b)
	}
	c.Close()
	// A member with a wrong secret cannot join.
	bad := storetest.Config("m9", t.TempDir())
	bad.CA, bad.Secret, bad.Join = nil, []byte("not-the-cluster-secret-at-all"), []string{addr}
	jctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if m, err := store.Open(jctx, bad); err == nil {
		m.Close()
		t.Fatal("a member with the wrong secret joined")
	}
	if _, err := os.Stat(filepath.Join(bad.DataDir, "peer.crt")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a member with the wrong secret got a certificate: %v", err)
	}
}

// TestJoinedMemberRestartsAndIsRemoved: a member that joined without the
// CA restarts from its data dir's certificate, catches up, and the
// cluster can remove a member.
func TestJoinedMemberRestartsAndIsRemoved(t *testing.T) {
	ctx := ctxT(t)
	c1 := storetest.Config("m1", t.TempDir())
	c1.Bootstrap = true
	m1 := storetest.Open(t, c1)
	c2 := storetest.Config("m2", t.TempDir())
	c2.CA, c2.Join = nil, []string{m1.PeerAddr()}
	storetest.Open(t, c2)
	c3 := storetest.Config("m3", t.TempDir())
	c3.CA, c3.Join, c3.PeerAddr = nil, []string{m1.PeerAddr()}, freePort(t)
	m3, err := store.Open(ctx, c3)
	if err != nil {
		t.Fatal(err)
	}
	waitVoters(t, m1, 3)
	m3.Close()
	o, err := store.Create(ctx, m1, cm("while-down"), []byte("v"))
	if err != nil {
		t.Fatal(err)
	}
	c3.Join = nil
	back := storetest.Open(t, c3)
	deadline := time.Now().Add(10 * time.Second)
	for back.Revision() < o.Revision && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got, err := back.Get(ctx, cm("while-down"), store.ReadOptions{}); err != nil || got.Revision != o.Revision {
		t.Fatalf("restarted member: %+v %v", got, err)
	}
	if err := back.RemoveMember(ctx, "m2"); err != nil {
		t.Fatalf("remove m2: %v", err)
	}
	waitVoters(t, m1, 2)
}

func newCA(t *testing.T) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "other CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert, key
}

func leafCert(t *testing.T, ca *x509.Certificate, caKey any, subj pkix.Name) *tls.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(8), Subject: subj, DNSNames: []string{"weir.members"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der, ca.Raw}, PrivateKey: key}
}
