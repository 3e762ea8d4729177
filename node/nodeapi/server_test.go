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

// TestTLSAndAuth: no TLS before the agent has its certificate; then only
// clients trusting the cluster CA connect, only with a client certificate
// of the cluster CA, only the control plane's is let in (a node's is a
// 403), and malformed requests are Status errors that never reach the
// runtime (a nil one here: reaching it would panic).
func TestTLSAndAuth(t *testing.T) {
	ca, err := nodestream.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{ClientCAPEM: ca.CertPEM, AllowedUsers: []string{nodestream.KubeletClientUser}, Runtime: (*runtime.Runtime)(nil)})
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
	other, _ := nodestream.NewCA()
	clients := map[string]*http.Client{}
	for who, issue := range map[string]func() (*tls.Certificate, error){
		"cp": func() (*tls.Certificate, error) {
			return ca.IssueClient(nodestream.KubeletClientUser, []string{nodestream.KubeletClientGroup}, time.Hour)
		},
		"node": func() (*tls.Certificate, error) { return ca.NodeClientCert("n2", time.Hour) },
		"foreign": func() (*tls.Certificate, error) {
			return other.IssueClient(nodestream.KubeletClientUser, nil, time.Hour)
		},
		"none": func() (*tls.Certificate, error) { return nil, nil },
	} {
		cert, err := issue()
		if err != nil {
			t.Fatal(err)
		}
		tc := &tls.Config{RootCAs: pool, ServerName: "n1"}
		if cert != nil {
			tc.Certificates = []tls.Certificate{*cert}
		}
		clients[who] = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: tc}}
	}
	base := "https://" + ln.Addr().String()
	get := func(method, path, who string) (*http.Response, error) {
		req, _ := http.NewRequest(method, base+path, nil)
		return clients[who].Do(req)
	}
	if _, err := get("GET", "/containerLogs/default/p/c", "cp"); err == nil {
		t.Fatal("TLS handshake succeeded without a serving certificate")
	}
	certPEM, keyPEM, err := ca.NodeServingCert("n1", nil)
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
		method, path, who string
		code              int
		want              string
	}{
		{"GET", "/containerLogs/default/p/c", "node", 403, "control plane"},
		{"POST", "/exec/default/p/c?command=true", "node", 403, "control plane"},
		{"GET", "/containerLogs/default/p/c?tailLines=-3", "cp", 400, "tailLines"},
		{"GET", "/containerLogs/default/p/c?tailLines=x", "cp", 400, "tailLines"},
		{"POST", "/exec/default/p/c", "cp", 400, "command=ARG"},
		{"GET", "/exec/default/p/c?command=true", "cp", 400, "at least 1 of stdin, stdout, stderr"},
		{"DELETE", "/exec/default/p/c?command=true&output=1", "cp", 405, ""},
		{"GET", "/containerLogs/default/p/c?sinceSeconds=5&sinceTime=2026-01-02T03:04:05Z", "cp", 400, "sinceTime or sinceSeconds"},
		{"GET", "/containerLogs/default/p/c?limitBytes=0", "cp", 400, "limitBytes"},
		{"GET", "/attach/default/p/c?input=1&output=1", "cp", 400, "stdin or terminal"},
	} {
		resp, err := get(c.method, c.path, c.who)
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
	for _, who := range []string{"none", "foreign"} {
		if resp, err := get("GET", "/containerLogs/default/p/c", who); err == nil {
			resp.Body.Close()
			t.Errorf("a client with %s certificate got an answer: %d", who, resp.StatusCode)
		}
	}
	otherPool := x509.NewCertPool()
	otherPool.AppendCertsFromPEM(other.CertPEM)
	stranger := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: otherPool}}}
	if _, err := stranger.Get(base + "/containerLogs/default/p/c"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a client trusting another CA connected: %v", err)
	}
}
