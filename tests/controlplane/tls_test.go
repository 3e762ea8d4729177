package controlplane

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/weirnet/weir/tests/controlplane/cluster"
)

// TestTLS: a 1-member and a 3-member cluster serve HTTPS only, every
// member with a certificate from the one cluster CA (each member's ca.crt
// is the first member's) naming its address, loopback and the kubernetes
// Service; no token, a wrong token and an untrusted client certificate
// are 401 Statuses on every member. On the 3-member cluster, `weir
// kubeconfig` for a joined member loads with clientcmd, client-go lists
// namespaces with it, and the real kubectl gets namespaces and answers
// `auth whoami` and `auth can-i`.
func TestTLS(t *testing.T) {
	for _, n := range []int{1, 3} {
		t.Run(map[int]string{1: "one member", 3: "three members"}[n], func(t *testing.T) {
			c := prepareCluster(t, cluster.Options{Members: n})
			launch(t, c)
			caPEM, err := os.ReadFile(filepath.Join(c.Members[0].DataDir, "ca.crt"))
			if err != nil {
				t.Fatal(err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(caPEM) {
				t.Fatal("ca.crt holds no certificate")
			}
			for _, m := range c.Members {
				checkMemberTLS(t, m, pool, caPEM, c.Token)
			}
			if n == 3 {
				checkKubeconfigAndKubectl(t, c, c.Members[1])
			}
		})
	}
}

func checkMemberTLS(t *testing.T, m *cluster.Member, pool *x509.CertPool, caPEM []byte, token string) {
	t.Helper()
	if got, err := os.ReadFile(filepath.Join(m.DataDir, "ca.crt")); err != nil || !bytes.Equal(got, caPEM) {
		t.Errorf("%s: ca.crt differs from the first member's (%v)", m.Name, err)
	}
	conn, err := tls.Dial("tcp", m.APIAddr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("%s: TLS with the cluster CA: %v", m.Name, err)
	}
	cert := conn.ConnectionState().PeerCertificates[0]
	conn.Close()
	for _, name := range []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"} {
		if !slices.Contains(cert.DNSNames, name) {
			t.Errorf("%s: certificate names %v lack %s", m.Name, cert.DNSNames, name)
		}
	}
	for _, ip := range []string{"127.0.0.1", "10.96.0.1"} {
		if err := cert.VerifyHostname(ip); err != nil {
			t.Errorf("%s: certificate does not cover %s: %v", m.Name, ip, err)
		}
	}
	if r, err := http.Get("http://" + m.APIAddr + "/api/v1/namespaces"); err == nil {
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != http.StatusBadRequest || bytes.Contains(body, []byte("NamespaceList")) {
			t.Errorf("%s: plain HTTP answered %d %s", m.Name, r.StatusCode, body)
		}
	}
	untrusted := selfSignedClientCert(t)
	for name, c := range map[string]struct {
		token string
		cert  *tls.Certificate
	}{"no token": {}, "wrong token": {token: token + "x"}, "untrusted client certificate": {cert: &untrusted}} {
		tc := &tls.Config{RootCAs: pool}
		if c.cert != nil {
			tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return c.cert, nil }
		}
		hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: tc}}
		req, _ := http.NewRequest("GET", "https://"+m.APIAddr+"/api/v1/namespaces", nil)
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("%s, %s: %v", m.Name, name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		hc.CloseIdleConnections()
		var st metav1.Status
		if json.Unmarshal(body, &st) != nil || resp.StatusCode != 401 || st.Kind != "Status" || st.Reason != metav1.StatusReasonUnauthorized {
			t.Errorf("%s, %s: %d %s; want a 401 Unauthorized Status", m.Name, name, resp.StatusCode, body)
		}
	}
}

func selfSignedClientCert(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mallory", Organization: []string{"system:masters"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func checkKubeconfigAndKubectl(t *testing.T, c *cluster.Cluster, m *cluster.Member) {
	t.Helper()
	kc := runWeir(t, "kubeconfig", "--data-dir", m.DataDir, "--server", "https://"+m.APIAddr, "--token-file", c.TokenFile)
	file := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(file, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	rc, err := clientcmd.BuildConfigFromFlags("", file)
	if err != nil {
		t.Fatalf("clientcmd cannot load `weir kubeconfig`'s output: %v\n%s", err, kc)
	}
	if rc.Host != "https://"+m.APIAddr || rc.BearerToken != c.Token || len(rc.CAData) == 0 {
		t.Errorf("kubeconfig: host %s, token set %t, CA data %d bytes", rc.Host, rc.BearerToken == c.Token, len(rc.CAData))
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t, time.Minute)
	nss, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("client-go: list namespaces: %v", err)
	}
	if !slices.ContainsFunc(nss.Items, func(n corev1.Namespace) bool { return n.Name == "default" }) {
		t.Errorf("client-go: namespaces %v lack default", nss.Items)
	}
	who, err := cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil || who.Status.UserInfo.Username != "weir:admin" {
		t.Errorf("client-go: SelfSubjectReview: %v %+v", err, who)
	}
	kubectl := "/usr/bin/kubectl"
	if _, err := os.Stat(kubectl); err != nil {
		if kubectl, err = exec.LookPath("kubectl"); err != nil {
			t.Skip("no kubectl (make deps installs it)")
		}
	}
	run := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, kubectl, append([]string{"--kubeconfig", file}, args...)...)
		cmd.Env = append(os.Environ(), "HOME="+t.TempDir()) // no cached discovery, no other kubeconfig
		start := time.Now()
		out, err := cmd.CombinedOutput()
		t.Logf("kubectl %s (%v): %v\n%s", strings.Join(args, " "), time.Since(start).Round(time.Millisecond), err, out)
		return string(out), err
	}
	out, err := run("get", "namespaces")
	if err != nil || !strings.Contains(out, "default") {
		t.Logf("kubectl get namespaces (plain table) failed: %v\n%s", err, out)
		out, err = run("get", "namespaces", "-o", "name")
	}
	if err != nil || !strings.Contains(out, "namespace/default") && !strings.Contains(out, "default ") {
		t.Errorf("kubectl get namespaces: %v\n%s", err, out)
	}
	if minor := kubectlMinor(t, kubectl); minor < 28 {
		t.Logf("kubectl 1.%d has no GA `auth whoami`; not checked", minor)
	} else if out, err := run("auth", "whoami"); err != nil || !strings.Contains(out, "weir:admin") || !strings.Contains(out, "system:masters") {
		t.Errorf("kubectl auth whoami: %v\n%s", err, out)
	}
	if out, err := run("auth", "can-i", "create", "pods"); err != nil || strings.TrimSpace(out) != "yes" {
		t.Errorf("kubectl auth can-i create pods: %v\n%s", err, out)
	}
	if out, err := run("auth", "can-i", "--list"); err != nil || !strings.Contains(out, "*.*") {
		t.Errorf("kubectl auth can-i --list: %v\n%s", err, out)
	}
	// A wrong token is a 401, which kubectl reports as "You must be logged in".
	bad := strings.Replace(kc, c.Token, "wrong-token", 1)
	badFile := filepath.Join(t.TempDir(), "bad")
	if err := os.WriteFile(badFile, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, kubectl, "--kubeconfig", badFile, "get", "namespaces", "-o", "name")
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "must be logged in") {
		t.Errorf("kubectl with a wrong token: %v\n%s", err, out)
	}
}

// kubectlMinor is kubectl's client minor version.
func kubectlMinor(t *testing.T, kubectl string) int {
	t.Helper()
	out, err := exec.Command(kubectl, "version", "--client", "-o", "json").Output()
	var v struct {
		ClientVersion struct {
			Minor string `json:"minor"`
		} `json:"clientVersion"`
	}
	if err != nil || json.Unmarshal(out, &v) != nil {
		t.Fatalf("kubectl version: %v %s", err, out)
	}
	n, _ := strconv.Atoi(strings.TrimRight(v.ClientVersion.Minor, "+"))
	return n
}
