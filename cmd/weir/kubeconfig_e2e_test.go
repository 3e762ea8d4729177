package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirnet/weir/control/api"
	"github.com/weirnet/weir/control/client"
	"github.com/weirnet/weir/control/store/storetest"

	"github.com/weirnet/weir/tests/testutil"
)

// TestCLIKubeconfig: the client commands reach an HTTPS API with the CA
// and token of a kubeconfig, named by $KUBECONFIG or --kubeconfig; a
// kubeconfig with another CA fails verification, one with a wrong token is
// the server's 401.
func TestCLIKubeconfig(t *testing.T) {
	st := storetest.New(t)
	srv, err := api.New(api.Config{Store: st, Cluster: st, Token: cliToken, Registerer: prometheus.NewRegistry(), Logger: storetest.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewTLSServer(srv.Handler())
	defer hs.Close()
	t.Setenv("HOME", t.TempDir())
	for _, v := range []string{"WEIR_SERVER", "WEIR_TOKEN", "WEIR_CONFIG", "KUBECONFIG"} {
		t.Setenv(v, "")
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: hs.Certificate().Raw})
	write := func(name string, ca []byte, token string) string {
		data, err := client.Kubeconfig("test", hs.URL, ca, token)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good", caPEM, cliToken)
	get := func(args ...string) (string, error) {
		var out, errOut testutil.SyncBuffer
		err := getCmd(ctx, cliIO{in: strings.NewReader(""), out: &out, errOut: &errOut}, args)
		return out.String() + errOut.String(), err
	}
	t.Setenv("KUBECONFIG", good)
	if out, err := get("namespaces"); err != nil || !strings.Contains(out, "kube-system") {
		t.Errorf("$KUBECONFIG: %v\n%s", err, out)
	}
	t.Setenv("KUBECONFIG", "")
	if out, err := get("namespaces", "--kubeconfig", good); err != nil || !strings.Contains(out, "kube-system") {
		t.Errorf("--kubeconfig: %v\n%s", err, out)
	}
	if out, err := get("namespaces", "--kubeconfig", write("otherca", selfSignedCA(t), cliToken)); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("another CA: %v\n%s", err, out)
	}
	if out, err := get("namespaces", "--kubeconfig", write("wrongtoken", caPEM, "nope")); err == nil || !strings.Contains(client.FormatError(err), "Error from server (Unauthorized)") {
		t.Errorf("wrong token: %v\n%s", err, out)
	}
}

func selfSignedCA(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "other CA"}, IsCA: true, BasicConstraintsValid: true,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
