package store_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weirnet/weir/control/revoke"
	"github.com/weirnet/weir/control/store"
	"github.com/weirnet/weir/control/store/storetest"
)

// secretConfig is a member config whose cluster secret lives in its data
// dir's cluster-secret file, as control/member keeps it.
func secretConfig(t *testing.T, name string, secret []byte) store.Config {
	t.Helper()
	c := storetest.Config(name, t.TempDir())
	c.SecretFile, c.Secret = filepath.Join(c.DataDir, "cluster-secret"), secret
	if err := os.WriteFile(c.SecretFile, append(secret, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	return c
}

// tryJoin opens a member that joins through addr with secret and reports
// whether it got in (a refused one gets no certificate).
func tryJoin(t *testing.T, name, addr string, secret []byte) error {
	t.Helper()
	c := secretConfig(t, name, secret)
	c.CA, c.Join = nil, []string{addr}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	m, err := store.Open(ctx, c)
	if err != nil {
		if _, serr := os.Stat(filepath.Join(c.DataDir, "peer.crt")); !errors.Is(serr, os.ErrNotExist) {
			t.Errorf("%s was refused (%v) but got a certificate", name, err)
		}
		return err
	}
	t.Cleanup(func() { m.Close() })
	return storetest.WaitReady(ctx, m)
}

// TestRotateClusterSecret: rotate-secret gives every member a new secret
// (written to its cluster-secret file) while the old one still admits a
// new member; after --finish only the new one does.
func TestRotateClusterSecret(t *testing.T) {
	ctx := ctxT(t)
	old := []byte(strings.Repeat("a", 64))
	c1 := secretConfig(t, "m1", old)
	c1.Bootstrap = true
	m1 := storetest.Open(t, c1)
	c2 := secretConfig(t, "m2", old)
	c2.Join = []string{m1.PeerAddr()}
	storetest.Open(t, c2)
	waitVoters(t, m1, 2)
	if err := m1.EnsurePeerCert(); err != nil {
		t.Fatal(err)
	}

	if _, err := store.RotateSecretAt(ctx, c1.DataDir, m1.PeerAddr(), true); err == nil {
		t.Fatal("finishing without a rotation succeeded")
	}
	res, err := store.RotateSecretAt(ctx, c1.DataDir, m1.PeerAddr(), false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Phase != "stage" || len(res.Members) != 2 {
		t.Fatalf("stage: %+v", res)
	}
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return []byte(strings.TrimSpace(string(b)))
	}
	secret := read(c1.SecretFile)
	if string(secret) == string(old) || len(secret) < 32 {
		t.Fatalf("m1's cluster-secret after the rotation: %q", secret)
	}
	if got := read(c2.SecretFile); string(got) != string(secret) {
		t.Fatalf("m2 holds %q, m1 %q", got, secret)
	}
	if got := read(c2.SecretFile + ".previous"); string(got) != string(old) {
		t.Fatalf("m2 keeps %q as the previous secret", got)
	}
	if err := tryJoin(t, "m3", m1.PeerAddr(), old); err != nil {
		t.Fatalf("during the transition, a join with the old secret: %v", err)
	}
	waitVoters(t, m1, 3)

	if res, err = store.RotateSecretAt(ctx, c1.DataDir, m1.PeerAddr(), true); err != nil {
		t.Fatal(err)
	}
	if res.Phase != "finish" || len(res.Members) != 3 {
		t.Fatalf("finish: %+v", res)
	}
	if _, err := os.Stat(c2.SecretFile + ".previous"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("m2 still keeps the previous secret: %v", err)
	}
	if err := tryJoin(t, "m4", m1.PeerAddr(), old); err == nil {
		t.Fatal("after finish, a member with the old secret joined")
	} else {
		t.Logf("join with the old secret: %v", err)
	}
	if err := tryJoin(t, "m5", m1.PeerAddr(), secret); err != nil {
		t.Fatalf("join with the new secret: %v", err)
	}
	waitVoters(t, m1, 4)
}

// TestRevokedMemberCertificateRefused: with PeerRevoked (revoke.CheckLocal,
// as control/member sets it), a member certificate from the cluster CA
// works on the peer port until it is revoked, by serial or as every
// certificate of its member name; then the handshake fails.
func TestRevokedMemberCertificateRefused(t *testing.T) {
	ctx := ctxT(t)
	cfg := storetest.Config("m1", t.TempDir())
	cfg.Bootstrap, cfg.PeerRevoked = true, revoke.CheckLocal
	s := storetest.Open(t, cfg)
	caCert, caKey := storetest.CA()
	dial := func(cert *tls.Certificate) error {
		d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 2 * time.Second}, Config: &tls.Config{
			MinVersion: tls.VersionTLS13, InsecureSkipVerify: true, NextProtos: []string{"weir-peer/1"},
			Certificates: []tls.Certificate{*cert}}}
		c, err := d.DialContext(ctx, "tcp", s.PeerAddr())
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		// TLS 1.3: the server's verdict on the client certificate
		// arrives with the first read; a member gets the HTTP/2 preface.
		b := make([]byte, 9)
		_, err = io.ReadFull(c, b)
		return err
	}
	// leafCert signs with one serial: revoke by member name first.
	for _, by := range []string{"member", "serial"} {
		name := "ghost-" + by
		cert := leafCert(t, caCert, caKey, pkix.Name{CommonName: "weir:member:" + name, Organization: []string{"weir:members"}})
		leaf, err := x509.ParseCertificate(cert.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := dial(cert); err != nil {
			t.Fatalf("%s: before revocation: %v", name, err)
		}
		e := revoke.Entry{Serial: revoke.SerialOf(leaf), Issuer: leaf.Issuer.String(), Reason: "test"}
		if by == "member" {
			e = revoke.Entry{User: "weir:member:" + name, Reason: "test"}
		}
		if _, err := revoke.Put(ctx, s, e); err != nil {
			t.Fatal(err)
		}
		err = dial(cert)
		if err == nil {
			t.Fatalf("%s: a revoked member certificate was accepted", name)
		}
		if !strings.Contains(err.Error(), "bad certificate") && !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("%s: want a TLS certificate error, got %v", name, err)
		}
		t.Logf("revoked by %s: %v", by, err)
	}
	// The member itself still talks: a write goes through raft.
	if _, err := store.Create(ctx, s, cm("after"), []byte("v")); err != nil {
		t.Fatal(err)
	}
}
