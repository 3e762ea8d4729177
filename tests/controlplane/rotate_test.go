package controlplane

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
	"fmt"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/weirnet/weir/tests/controlplane/cluster"
)

// tryWeir runs the weir CLI and returns its combined output and error.
func tryWeir(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, weirBin(t), args...).CombinedOutput()
	return string(out), err
}

// signClient signs a client certificate for cn with the CA in dir
// (ca.crt's first certificate, ca.key), as `weir kubeconfig --user` does.
func signClient(t *testing.T, dir, cn string) tls.Certificate {
	t.Helper()
	cb, _ := pem.Decode(mustReadFile(t, filepath.Join(dir, "ca.crt")))
	kb, _ := pem.Decode(mustReadFile(t, filepath.Join(dir, "ca.key")))
	caCert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	caKey, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func mustReadFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// getWith GETs path from m's API with tls config tc and an optional
// token: the status code, or the transport error.
func getWith(m *cluster.Member, tc *tls.Config, token, path string) (int, error) {
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: tc}}
	defer hc.CloseIdleConnections()
	req, _ := http.NewRequest("GET", "https://"+m.APIAddr+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func certCount(b []byte) int { return bytes.Count(b, []byte("BEGIN CERTIFICATE")) }

// TestRotateCAAndSecret: on three `weir server` processes, `weir certs
// rotate-ca` keeps clients and user certificates of the old CA working
// while every member's ca.crt holds both CAs; after `--finish` a user
// certificate of the old CA is a 401, a client trusting only the old CA
// fails verification, and the members keep replicating. `weir members
// rotate-secret` then `--finish`: a member joining with the old secret is
// refused, one with the new secret joins.
func TestRotateCAAndSecret(t *testing.T) {
	c := startCluster(t)
	ctx := testCtx(t, 4*time.Minute)
	m1 := c.Members[0]
	memberFlags := []string{"--data-dir", m1.DataDir, "--peer", m1.PeerAddr}
	oldPEM := mustReadFile(t, filepath.Join(m1.DataDir, "ca.crt"))
	oldPool := x509.NewCertPool()
	oldPool.AppendCertsFromPEM(oldPEM)
	oldTrust := func() *tls.Config { return &tls.Config{RootCAs: oldPool, ServerName: "127.0.0.1"} }
	alice := signClient(t, m1.DataDir, "alice")
	withAlice := func(m *cluster.Member) *tls.Config {
		tc := cluster.VerifyWithCAFiles(m.APIAddr, filepath.Join(m.DataDir, "ca.crt"))
		tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &alice, nil }
		return tc
	}
	waitUntil := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(200 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}

	out, err := tryWeir(t, append([]string{"certs", "rotate-ca"}, memberFlags...)...)
	if err != nil {
		t.Fatalf("weir certs rotate-ca: %v\n%s", err, out)
	}
	t.Logf("rotate-ca: %s", out)
	for _, m := range c.Members {
		waitUntil(m.Name+"'s ca.crt with both CAs", func() bool {
			b, err := os.ReadFile(filepath.Join(m.DataDir, "ca.crt"))
			return err == nil && certCount(b) == 2
		})
		if code, err := getWith(m, oldTrust(), c.Token, "/api/v1/namespaces"); err != nil || code != 200 {
			t.Fatalf("%s during the transition, trusting only the old CA: %d %v", m.Name, code, err)
		}
		if code, err := getWith(m, withAlice(m), "", "/api/v1/namespaces/default/pods"); err != nil || code == 401 {
			t.Fatalf("%s during the transition, a user certificate of the old CA: %d %v", m.Name, code, err)
		}
	}
	// Members renew their peer certificates within seconds; finish until they have.
	var finished bool
	for deadline := time.Now().Add(30 * time.Second); !finished && time.Now().Before(deadline); time.Sleep(time.Second) {
		out, err = tryWeir(t, append([]string{"certs", "rotate-ca", "--finish"}, memberFlags...)...)
		finished = err == nil
	}
	if !finished {
		t.Fatalf("weir certs rotate-ca --finish: %v\n%s", err, out)
	}
	t.Logf("rotate-ca --finish: %s", out)
	for i, m := range c.Members {
		waitUntil(m.Name+"'s ca.crt with the new CA only", func() bool {
			b, err := os.ReadFile(filepath.Join(m.DataDir, "ca.crt"))
			return err == nil && certCount(b) == 1 && !bytes.Equal(b, oldPEM)
		})
		if code, err := getWith(m, withAlice(m), "", "/api/v1/namespaces/default/pods"); err != nil || code != 401 {
			t.Fatalf("%s after finish, a user certificate of the old CA: %d %v; want 401", m.Name, code, err)
		}
		_, err := getWith(m, oldTrust(), c.Token, "/api/v1/namespaces")
		if err == nil || !strings.Contains(err.Error(), "certificate signed by unknown authority") {
			t.Fatalf("%s after finish, a client trusting only the old CA: %v", m.Name, err)
		}
		r, err := m.Client.Do(ctx, "POST", "/api/v1/namespaces/default/configmaps", configMap(fmt.Sprintf("after-ca-%d", i), map[string]string{"k": "v"}))
		if err != nil || r.Code != 201 {
			t.Fatalf("%s: write after the CA rotation: %v %d %s", m.Name, err, r.Code, r.Body)
		}
	}

	// The cluster secret.
	oldSecret := mustReadFile(t, c.SecretFile)
	out, err = tryWeir(t, append([]string{"members", "rotate-secret"}, memberFlags...)...)
	if err != nil {
		t.Fatalf("weir members rotate-secret: %v\n%s", err, out)
	}
	t.Logf("rotate-secret: %s", out)
	if out, err = tryWeir(t, append([]string{"members", "rotate-secret", "--finish"}, memberFlags...)...); err != nil {
		t.Fatalf("weir members rotate-secret --finish: %v\n%s", err, out)
	}
	newSecret := mustReadFile(t, c.SecretFile)
	if bytes.Equal(newSecret, oldSecret) {
		t.Fatal("the cluster-secret file did not change")
	}
	join := func(name string, secret []byte) (dataDir, logPath string) {
		t.Helper()
		dir := filepath.Join(t.TempDir(), name)
		secretFile := filepath.Join(t.TempDir(), "secret")
		if err := os.WriteFile(secretFile, secret, 0o600); err != nil {
			t.Fatal(err)
		}
		ports, err := cluster.FreePorts(2)
		if err != nil {
			t.Fatal(err)
		}
		logPath = filepath.Join(t.TempDir(), name+".log")
		lf, err := os.Create(logPath)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(weirBin(t), "server", "--name", name, "--data-dir", dir,
			"--listen", fmt.Sprintf("127.0.0.1:%d", ports[0]), "--peer", fmt.Sprintf("127.0.0.1:%d", ports[1]),
			"--cluster-secret-file", secretFile, "--join", m1.PeerAddr)
		cmd.Stdout, cmd.Stderr = lf, lf
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); lf.Close(); close(done) }()
		t.Cleanup(func() { _ = cmd.Process.Kill(); <-done })
		return dir, logPath
	}
	isMember := func(name string) bool {
		ms, err := m1.Client.Members(ctx)
		if err != nil {
			return false
		}
		for _, m := range ms {
			if m.Name == name {
				return true
			}
		}
		return false
	}
	oldDir, oldLog := join("m-old", oldSecret)
	newDir, _ := join("m-new", newSecret)
	waitUntil("the member with the new secret to join", func() bool { return isMember("m-new") })
	if _, err := os.Stat(filepath.Join(newDir, "peer.crt")); err != nil {
		t.Fatalf("the member with the new secret has no certificate: %v", err)
	}
	waitUntil("the refusal in the old-secret member's log", func() bool {
		b, _ := os.ReadFile(oldLog)
		return bytes.Contains(b, []byte("cluster secret did not match"))
	})
	if isMember("m-old") {
		t.Fatal("a member with the old secret joined after rotate-secret --finish")
	}
	if _, err := os.Stat(filepath.Join(oldDir, "peer.crt")); err == nil {
		t.Fatal("a member with the old secret got a member certificate")
	}
}
