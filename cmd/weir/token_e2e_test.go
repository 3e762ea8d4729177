package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/weirnet/weir/control/nodestream"
	"github.com/weirnet/weir/control/store/storetest"
	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

// TestCLIToken: `weir token create` prints a bootstrap token a node can
// join with (its CSR is signed), `list` shows it, and after `delete` the
// same token is refused.
func TestCLIToken(t *testing.T) {
	st := storetest.New(t)
	e := newCLIEnvOn(t, st)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ca, err := nodestream.EnsureCA(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := ca.ServerTLS("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := nodestream.New(nodestream.Config{Store: st, CA: ca, TLS: tc, Logger: storetest.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()

	tok := strings.TrimSpace(e.mustRun(t, tokenCmd, "", "create", "--ttl", "1h", "--description", "for node-a"))
	if !regexp.MustCompile(`^[a-z0-9]{6}\.[a-z0-9]{16}$`).MatchString(tok) {
		t.Fatalf("token create printed %q, want ID.SECRET", tok)
	}
	id := tok[:6]
	if out := e.mustRun(t, tokenCmd, "", "list"); !strings.Contains(out, id) || !strings.Contains(out, "for node-a") {
		t.Errorf("token list:\n%s\nwant %s", out, id)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "system:node:node-a", Organization: []string{"system:nodes"}}}, key)
	req := &pb.CertificateRequest{NodeName: "node-a", CsrPem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})}
	ask := func() error {
		c, conn, err := nodestream.Dial(nodestream.DialConfig{Addr: ln.Addr().String(), CAPEM: ca.CertPEM, BootstrapToken: tok})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_, err = c.RequestCertificate(ctx, req)
		return err
	}
	if err := ask(); err != nil {
		t.Fatalf("join with the created token: %v", err)
	}
	e.mustRun(t, tokenCmd, "", "delete", id)
	if err := ask(); status.Code(err) != codes.Unauthenticated {
		t.Errorf("join with a deleted token: %v, want Unauthenticated", err)
	}
}
