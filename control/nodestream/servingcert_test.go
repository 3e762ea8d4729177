package nodestream

import (
	"crypto/tls"
	"crypto/x509"
	"testing"

	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

// TestNodeServingCert: an agent that serves a node API gets a serving
// certificate for its addresses signed by the cluster CA, and its port
// lands in the Node's status; one without gets neither.
func TestNodeServingCert(t *testing.T) {
	e := newEnv(t, nil)
	ca := e.ca
	resp, err := e.client("n1").Register(ctxT(t), &pb.RegisterRequest{NodeName: "n1", Addresses: []string{"192.0.2.7"}, ApiPort: 10250})
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(resp.ServingCertPem, resp.ServingKeyPem)
	if err != nil {
		t.Fatalf("serving cert and key: %v", err)
	}
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.CertPEM)
	for _, name := range []string{"192.0.2.7", "n1"} {
		if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: name, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			t.Errorf("verify for %s: %v", name, err)
		}
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: "192.0.2.8"}); err == nil {
		t.Error("the certificate is valid for another node's address")
	}
	if p := e.node("n1").Status.DaemonEndpoints.KubeletEndpoint.Port; p != 10250 {
		t.Errorf("kubeletEndpoint.port = %d, want 10250", p)
	}
	resp, err = e.client("n2").Register(ctxT(t), &pb.RegisterRequest{NodeName: "n2", Addresses: []string{"192.0.2.9"}})
	if err != nil || len(resp.ServingCertPem) != 0 {
		t.Errorf("no api_port: cert %d bytes, %v", len(resp.ServingCertPem), err)
	}
	if _, err := e.client("n3").Register(ctxT(t), &pb.RegisterRequest{NodeName: "n3", Addresses: []string{"192.0.2.10"}, ApiPort: 70000}); err == nil {
		t.Error("api_port 70000 accepted")
	}
}
