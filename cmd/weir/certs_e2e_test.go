package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirnet/weir/control/api"
	"github.com/weirnet/weir/control/revoke"
	"github.com/weirnet/weir/control/store/storetest"
)

// TestCLICerts: `weir certs revoke --serial/--user/--node` write the
// revocation list the API checks (the set refuses the certificates when
// the command returns), `list-revoked` prints it, and wrong arguments are
// refused before anything is sent.
func TestCLICerts(t *testing.T) {
	st := storetest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	set := revoke.NewSet(st, storetest.Logger())
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); set.Run(runCtx) }()
	defer func() { stop(); <-done }()
	srv, err := api.New(api.Config{Store: st, Cluster: st, Token: cliToken, Revocations: set,
		Registerer: prometheus.NewRegistry(), Logger: storetest.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	t.Setenv("HOME", t.TempDir())
	e := &cliEnv{url: hs.URL, flags: []string{"--server", hs.URL, "--token", cliToken}}

	ca, caKey := storetest.CA()
	mk := func(cn string, serial int64) *x509.Certificate {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := x509.ParseCertificate(der)
		return c
	}
	byS, alice, node := mk("carol", 0xabcdef01), mk("alice", 0x1234), mk("system:node:n1", 0x5678)
	if err := revoke.RecordNodeCert(ctx, st, "n1", node); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*x509.Certificate{byS, alice, node} {
		for deadline := time.Now().Add(10 * time.Second); set.Check(c) != nil; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s before revoking: %v", c.Subject, set.Check(c))
			}
		}
	}

	if out := e.mustRun(t, certsCmd, "", "revoke", "--serial", "AB:CD:EF:01", "--reason", "lost"); !strings.Contains(out, "revoked certificate abcdef01") {
		t.Errorf("revoke --serial printed %q", out)
	}
	if out := e.mustRun(t, certsCmd, "", "revoke", "--user", "alice"); !strings.Contains(out, `every certificate of user "alice"`) {
		t.Errorf("revoke --user printed %q", out)
	}
	if out := e.mustRun(t, certsCmd, "", "revoke", "--node", "n1"); !strings.Contains(out, "revoked certificate 5678 CN=system:node:n1") {
		t.Errorf("revoke --node printed %q", out)
	}
	var re *revoke.RevokedError
	for _, c := range []*x509.Certificate{byS, alice, node} {
		if err := set.Check(c); !errors.As(err, &re) {
			t.Errorf("%s after the command returned: %v, want revoked", c.Subject, err)
		}
	}
	out := e.mustRun(t, certsCmd, "", "list-revoked")
	for _, want := range []string{"abcdef01", "lost", "CN=alice", "5678", "CN=system:node:n1"} {
		if !strings.Contains(out, want) {
			t.Errorf("list-revoked lacks %q:\n%s", want, out)
		}
	}
	for _, bad := range [][]string{{"revoke"}, {"revoke", "--user", "a", "--node", "b"}, {"list-revoked", "--user", "a"}, {"frobnicate"}} {
		if _, _, err := e.run(t, certsCmd, "", bad...); err == nil {
			t.Errorf("certs %v succeeded", bad)
		}
	}
	if _, _, err := e.run(t, certsCmd, "", "revoke", "--serial", "xyz"); err == nil || !strings.Contains(err.Error(), "hex") {
		t.Errorf("revoke --serial xyz: %v, want a 400 about hex", err)
	}
}
