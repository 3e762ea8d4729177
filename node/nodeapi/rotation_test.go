package nodeapi

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weirnet/weir/control/nodestream"
	"github.com/weirnet/weir/node/runtime"
)

// TestClientCAsFollowTheBundle: with Config.ClientCAs the pool is asked
// at each handshake: the control plane's certificate of a new CA is
// refused until the agent's bundle holds that CA, then let in.
func TestClientCAsFollowTheBundle(t *testing.T) {
	oldCA, _ := nodestream.NewCA()
	newCA, _ := nodestream.NewCA()
	var pool atomic.Pointer[x509.CertPool]
	pool.Store(oldCA.Pool())
	srv, err := New(Config{ClientCAs: pool.Load, AllowedUsers: []string{nodestream.KubeletClientUser}, Runtime: (*runtime.Runtime)(nil)})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Start(ln)
	t.Cleanup(srv.Close)
	certPEM, keyPEM, err := oldCA.NodeServingCert("n1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.SetCertificate(certPEM, keyPEM); err != nil {
		t.Fatal(err)
	}
	cp, err := newCA.IssueClient(nodestream.KubeletClientUser, []string{nodestream.KubeletClientGroup}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	get := func() (int, error) {
		tc := &tls.Config{RootCAs: oldCA.Pool(), ServerName: "n1",
			GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cp, nil }}
		hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: tc}}
		defer hc.CloseIdleConnections()
		resp, err := hc.Get("https://" + ln.Addr().String() + "/containerLogs/default/p/c?tailLines=-3")
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if code, err := get(); err == nil {
		t.Fatalf("a certificate of a CA the bundle lacks got %d", code)
	}
	both := oldCA.Pool().Clone()
	both.AddCert(newCA.ChainTail())
	pool.Store(both)
	if code, err := get(); err != nil || code != 400 {
		t.Fatalf("after the bundle holds the new CA: %d %v, want the 400 of an authenticated bad request", code, err)
	}
}
