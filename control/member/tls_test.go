package member

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
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/controllers/kube"
	"github.com/weirnet/weir/control/store/storetest"
)

func startMember(t *testing.T, cfg Config) *Member {
	t.Helper()
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.Peer == "" {
		cfg.Peer = "127.0.0.1:0"
	}
	cfg.Logger = storetest.Logger()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	m, err := Start(ctx, cfg)
	// A member restarted on its old ports may find one taken for a moment
	// as another process's outgoing port: try again for a while.
	for deadline := time.Now().Add(10 * time.Second); errors.Is(err, syscall.EADDRINUSE) && time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
		m, err = Start(ctx, cfg)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// get sends GET path to m's API with tc and an optional bearer token.
func get(t *testing.T, m *Member, tc *tls.Config, token, path string) (int, []byte) {
	t.Helper()
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: tc}}
	defer hc.CloseIdleConnections()
	req, _ := http.NewRequest("GET", m.APIURL()+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// TestAPIServesHTTPS: a bootstrapped member serves its API over TLS 1.2+
// only, with a certificate from the cluster CA (ca.crt in the data dir)
// naming its address, loopback, the kubernetes Service's ClusterIP and
// names; the probes answer over HTTPS without credentials; plain HTTP gets
// no API answer.
func TestAPIServesHTTPS(t *testing.T) {
	m := startMember(t, Config{Name: "m1", DataDir: t.TempDir(), Bootstrap: true, ServiceCIDR: "10.97.0.0/16"})
	caPEM, err := os.ReadFile(filepath.Join(m.cfg.DataDir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(caPEM, m.CACert()) {
		t.Fatal("ca.crt in the data dir is not the CA the member serves with")
	}
	if st, err := os.Stat(filepath.Join(m.cfg.DataDir, "ca.key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("ca.key: %v, mode %v; want 0600", err, st.Mode().Perm())
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	conn, err := tls.Dial("tcp", m.APIAddr(), &tls.Config{RootCAs: pool, ServerName: "kubernetes.default.svc"})
	if err != nil {
		t.Fatalf("TLS with the cluster CA, as kubernetes.default.svc: %v", err)
	}
	leaf := conn.ConnectionState().PeerCertificates[0]
	conn.Close()
	var ips []string
	for _, ip := range leaf.IPAddresses {
		ips = append(ips, ip.String())
	}
	for _, want := range []string{"127.0.0.1", "10.97.0.1"} {
		if !slices.Contains(ips, want) {
			t.Errorf("certificate IPs %v lack %s", ips, want)
		}
	}
	for _, want := range append([]string{"localhost"}, kubernetesNames...) {
		if !slices.Contains(leaf.DNSNames, want) {
			t.Errorf("certificate names %v lack %s", leaf.DNSNames, want)
		}
	}
	if _, err := tls.Dial("tcp", m.APIAddr(), &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11}); err == nil {
		t.Error("TLS 1.1 handshake succeeded")
	}
	if _, err := tls.Dial("tcp", m.APIAddr(), &tls.Config{}); err == nil {
		t.Error("handshake succeeded without trusting the cluster CA")
	}
	for _, p := range []string{"/livez", "/healthz", "/version"} {
		if code, body := get(t, m, m.ClientTLS(), "", p); code != 200 {
			t.Errorf("GET %s over HTTPS without credentials: %d %s", p, code, body)
		}
	}
	resp, err := http.Get("http://" + m.APIAddr() + "/api/v1/namespaces")
	if err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || bytes.Contains(body, []byte("NamespaceList")) {
			t.Errorf("plain HTTP: %d %s, want the server's 400 for HTTP on an HTTPS port", resp.StatusCode, body)
		}
	}
}

// clientCert is a client certificate for cn in org signed by ca (a key
// pair of PEM blocks), or self-signed when caCert is nil.
func clientCert(t *testing.T, caCert *x509.Certificate, caKey any, cn, org string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn, Organization: []string{org}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	parent, signer := tmpl, any(key)
	if caCert != nil {
		parent, signer = caCert, caKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// withCert is m's client TLS presenting cert whatever CAs the server
// names (as a client that does not filter by the server's CA list).
func withCert(m *Member, cert tls.Certificate) *tls.Config {
	tc := m.ClientTLS()
	tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
	return tc
}

// TestAuthentication: no token, a wrong token and a client certificate the
// cluster CA did not sign (without a token) are each a 401 Status; the
// token is weir:admin, a CA-signed client certificate its CN and O.
func TestAuthentication(t *testing.T) {
	m := startMember(t, Config{Name: "m1", DataDir: t.TempDir(), Bootstrap: true})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := m.EnsureDefaults(ctx); err != nil { // the bootstrap RBAC policy lets every user review itself
		t.Fatal(err)
	}
	cs, err := kube.NewClientset(m.leaderRESTConfig(), "test") // and RBAC lets alice read
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "alice-view"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "system:aggregate-to-view"}, // view, before aggregation
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "alice"}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	token := m.Store.Token()
	untrusted := clientCert(t, nil, nil, "mallory", "system:masters")
	caCert, caKey := m.tls.CA().Signer()
	trusted := clientCert(t, caCert, caKey, "alice", "dev")
	const path = "/api/v1/namespaces"
	for name, c := range map[string]struct {
		tc    *tls.Config
		token string
	}{
		"no token":                  {m.ClientTLS(), ""},
		"wrong token":               {m.ClientTLS(), token + "x"},
		"untrusted client cert":     {withCert(m, untrusted), ""},
		"untrusted cert, bad token": {withCert(m, untrusted), "nope"},
	} {
		code, body := get(t, m, c.tc, c.token, path)
		var st metav1.Status
		if err := json.Unmarshal(body, &st); code != 401 || err != nil || st.Kind != "Status" || st.Reason != metav1.StatusReasonUnauthorized || st.Code != 401 {
			t.Errorf("%s: %d %s; want a 401 Unauthorized Status", name, code, body)
		}
	}
	for name, c := range map[string]struct {
		tc    *tls.Config
		token string
		user  string
	}{
		"token":                     {m.ClientTLS(), token, "weir:admin"},
		"untrusted cert with token": {withCert(m, untrusted), token, "weir:admin"},
		"cluster-signed cert":       {withCert(m, trusted), "", "alice"},
	} {
		if code, body := get(t, m, c.tc, c.token, path); code != 200 {
			t.Errorf("%s: GET %s: %d %s", name, path, code, body)
		}
		hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: c.tc}}
		req, _ := http.NewRequest("POST", m.APIURL()+"/apis/authentication.k8s.io/v1/selfsubjectreviews",
			strings.NewReader(`{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}`))
		req.Header.Set("Content-Type", "application/json")
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var r struct {
			Status struct {
				UserInfo struct {
					Username string   `json:"username"`
					Groups   []string `json:"groups"`
				} `json:"userInfo"`
			} `json:"status"`
		}
		if err := json.Unmarshal(body, &r); err != nil || resp.StatusCode != 201 || r.Status.UserInfo.Username != c.user ||
			!slices.Contains(r.Status.UserInfo.Groups, "system:authenticated") {
			t.Errorf("%s: SelfSubjectReview %d %s; want user %s", name, resp.StatusCode, body, c.user)
		}
		hc.CloseIdleConnections()
	}
}

// TestJoinAndRestartTLS: a joining member serves with a certificate from
// the same cluster CA and writes the same ca.crt; a restarted member
// serves HTTPS at once from the CA copy in its data dir, even before any
// leader is elected (its peer is down).
func TestJoinAndRestartTLS(t *testing.T) {
	m1 := startMember(t, Config{Name: "m1", DataDir: t.TempDir(), Bootstrap: true})
	d2 := t.TempDir()
	if err := os.WriteFile(filepath.Join(d2, "cluster-secret"), mustRead(t, filepath.Join(m1.cfg.DataDir, "cluster-secret")), 0o600); err != nil {
		t.Fatal(err)
	}
	m2 := startMember(t, Config{Name: "m2", DataDir: d2, Join: []string{m1.Store.PeerAddr()}})
	if !bytes.Equal(mustRead(t, filepath.Join(d2, "ca.crt")), m1.CACert()) {
		t.Fatal("the joined member's ca.crt differs from the first member's")
	}
	// m1's trust verifies m2's certificate.
	if code, body := get(t, m2, m1.ClientTLS(), m1.Store.Token(), "/api/v1/namespaces"); code != 200 {
		t.Fatalf("m2 with m1's CA and token: %d %s", code, body)
	}
	addr2 := m2.APIAddr()
	m2.Close()
	m1.Close()
	// m2 alone cannot elect a leader, yet serves TLS (and /livez) at once.
	m2 = startMember(t, Config{Name: "m2", DataDir: d2, Listen: addr2, Join: []string{"127.0.0.1:1"}})
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(mustRead(t, filepath.Join(d2, "ca.crt")))
	if code, body := get(t, m2, &tls.Config{RootCAs: pool}, "", "/livez"); code != 200 {
		t.Fatalf("restarted member without a leader: /livez %d %s", code, body)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
