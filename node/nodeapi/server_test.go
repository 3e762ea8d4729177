package nodeapi

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/nodestream"
	"github.com/weirnet/weir/node/runtime"
)

const testToken = "node-token-0123456789"

// TestTLSAndAuth: no TLS before the agent has its certificate; then only
// clients trusting the cluster CA connect, only the node token is let
// in, and malformed requests are Status errors that never reach the
// runtime (a nil one here: reaching it would panic).
func TestTLSAndAuth(t *testing.T) {
	ca, err := nodestream.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{Token: testToken, Runtime: (*runtime.Runtime)(nil)})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Start(ln)
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.CertPEM)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	base := "https://" + ln.Addr().String()
	get := func(method, path, token string) (*http.Response, error) {
		req, _ := http.NewRequest(method, base+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return client.Do(req)
	}
	if _, err := get("GET", "/containerLogs/default/p/c", testToken); err == nil {
		t.Fatal("TLS handshake succeeded without a serving certificate")
	}
	certPEM, keyPEM, err := ca.NodeServingCert("n1", []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.SetCertificate(certPEM, keyPEM); err != nil {
		t.Fatal(err)
	}
	if err := srv.SetCertificate(certPEM, []byte("junk")); err == nil {
		t.Error("a bad key was accepted")
	}
	for _, c := range []struct {
		method, path, token string
		code                int
		want                string
	}{
		{"GET", "/containerLogs/default/p/c", "", 401, "node token"},
		{"GET", "/containerLogs/default/p/c", testToken + "x", 401, "node token"},
		{"POST", "/exec/default/p/c?command=true", "wrong", 401, "node token"},
		{"GET", "/containerLogs/default/p/c?tailLines=-3", testToken, 400, "tailLines"},
		{"GET", "/containerLogs/default/p/c?tailLines=x", testToken, 400, "tailLines"},
		{"POST", "/exec/default/p/c", testToken, 400, "command=ARG"},
		{"GET", "/exec/default/p/c?command=true", testToken, 405, ""},
	} {
		resp, err := get(c.method, c.path, c.token)
		if err != nil {
			t.Fatalf("%s %s: %v", c.method, c.path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.code {
			t.Errorf("%s %s: %d %s, want %d", c.method, c.path, resp.StatusCode, body, c.code)
			continue
		}
		if c.want == "" {
			continue
		}
		var st metav1.Status
		if err := json.Unmarshal(body, &st); err != nil || st.Kind != "Status" || int(st.Code) != c.code || !strings.Contains(st.Message, c.want) {
			t.Errorf("%s %s: %s, want a Status %d mentioning %q", c.method, c.path, body, c.code, c.want)
		}
	}
	other, _ := nodestream.NewCA()
	otherPool := x509.NewCertPool()
	otherPool.AppendCertsFromPEM(other.CertPEM)
	stranger := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: otherPool}}}
	if _, err := stranger.Get(base + "/containerLogs/default/p/c"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a client trusting another CA connected: %v", err)
	}
}
