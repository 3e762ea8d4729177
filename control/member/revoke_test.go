package member

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/revoke"
	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

// revokeVia POSTs a revocation to m's API as the cluster admin.
func revokeVia(t *testing.T, m *Member, req revoke.Request) []revoke.Entry {
	t.Helper()
	body, _ := json.Marshal(req)
	hr, _ := http.NewRequest("POST", m.APIURL()+"/weir/v1/revocations", bytes.NewReader(body))
	hr.Header.Set("Authorization", "Bearer "+m.Store.Token())
	hr.Header.Set("Content-Type", "application/json")
	hc := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: m.ClientTLS()}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("revoke %+v: %d %s", req, resp.StatusCode, raw)
	}
	var l revoke.List
	if err := json.Unmarshal(raw, &l); err != nil {
		t.Fatal(err)
	}
	return l.Items
}

func userTLS(t *testing.T, m *Member, name string) (tls.Certificate, *x509.Certificate) {
	t.Helper()
	cc, err := IssueUserCert(m.cfg.DataDir, name, nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(cc.CertPEM, cc.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(cc.CertPEM)
	leaf, _ := x509.ParseCertificate(blk.Bytes)
	return pair, leaf
}

// TestRevokeUserCertificates: on a three-member cluster, user
// certificates work on every member; revoking one by serial, and every
// certificate of a user, makes them 401 on every member (on the member
// that wrote the revocation at once); a certificate issued after the user
// revocation works; the list shows the entries.
func TestRevokeUserCertificates(t *testing.T) {
	m1 := startMember(t, Config{Name: "m1", DataDir: t.TempDir(), Bootstrap: true})
	ms := []*Member{m1}
	for _, name := range []string{"m2", "m3"} {
		d := t.TempDir()
		if err := os.WriteFile(filepath.Join(d, "cluster-secret"), mustRead(t, filepath.Join(m1.cfg.DataDir, "cluster-secret")), 0o600); err != nil {
			t.Fatal(err)
		}
		ms = append(ms, startMember(t, Config{Name: name, DataDir: d, Join: []string{m1.Store.PeerAddr()}}))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := m1.EnsureDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	codeOn := func(m *Member, c tls.Certificate) int {
		code, _ := get(t, m, withCert(m, c), "", "/api")
		return code
	}
	eventuallyAll := func(what string, c tls.Certificate, want int) {
		t.Helper()
		for _, m := range ms {
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				got := codeOn(m, c)
				if got == want {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s on %s: %d, want %d", what, m.cfg.Name, got, want)
				}
			}
		}
	}
	alice1, _ := userTLS(t, m1, "alice")
	alice2, _ := userTLS(t, m1, "alice")
	bob, bobLeaf := userTLS(t, m1, "bob")
	for _, c := range []tls.Certificate{alice1, alice2, bob} {
		eventuallyAll("a fresh user certificate", c, http.StatusOK)
	}

	// One certificate, by serial, revoked through m2.
	es := revokeVia(t, ms[1], revoke.Request{Serial: strings.ToUpper(bobLeaf.SerialNumber.Text(16)), Reason: "laptop stolen"})
	if len(es) != 1 || es[0].Serial != revoke.SerialOf(bobLeaf) {
		t.Fatalf("revoke by serial wrote %+v", es)
	}
	if code, body := get(t, ms[1], withCert(ms[1], bob), "", "/api"); code != http.StatusUnauthorized || !strings.Contains(string(body), `"code":401`) {
		t.Fatalf("revoked certificate on the member that revoked it: %d %s, want a 401 Status at once", code, body)
	}
	eventuallyAll("bob's revoked certificate", bob, http.StatusUnauthorized)

	// Every certificate of alice issued until now, through m3.
	revokeVia(t, ms[2], revoke.Request{User: "alice"})
	time.Sleep(10 * time.Millisecond)
	alice3, _ := userTLS(t, m1, "alice")
	eventuallyAll("alice's first certificate", alice1, http.StatusUnauthorized)
	eventuallyAll("alice's second certificate", alice2, http.StatusUnauthorized)
	eventuallyAll("alice's certificate issued after the revocation", alice3, http.StatusOK)

	code, body := get(t, m1, m1.ClientTLS(), m1.Store.Token(), "/weir/v1/revocations")
	var l revoke.List
	if err := json.Unmarshal(body, &l); code != 200 || err != nil || len(l.Items) != 2 {
		t.Fatalf("GET /weir/v1/revocations: %d %s", code, body)
	}
	// The admin token still works; a user may not revoke.
	if code, _ := get(t, m1, withCert(m1, alice3), "", "/weir/v1/revocations"); code != http.StatusForbidden {
		t.Errorf("alice lists the revocations: %d, want 403", code)
	}
}

// TestDeletedNodeCertificateRevoked: a node joins and registers; deleting
// its Node revokes its certificate: the node stream refuses it
// (Unauthenticated), ends its open Watch, so it cannot register the name again, the API answers
// 401; the name joins again with a new key and registers.
func TestDeletedNodeCertificateRevoked(t *testing.T) {
	m, ctx, admin, tok := nodeTestMember(t)
	for deadline := time.Now().Add(30 * time.Second); m.NodeStreamAddr() == "" || m.tls.CA() == nil; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the node stream does not serve")
		}
	}
	register := func(c pb.NodeStreamClient) error {
		_, err := c.Register(ctx, &pb.RegisterRequest{NodeName: "node-a", Addresses: []string{"192.0.2.1"}, Capacity: map[string]string{"cpu": "2", "pods": "110"}})
		return err
	}
	old := bootstrapNode(t, m, tok, "node-a")
	oldStream := nodeStreamAs(t, m, old)
	if err := register(oldStream); err != nil {
		t.Fatalf("register node-a: %v", err)
	}
	if _, err := apiAs(t, m, old).CoreV1().Nodes().Get(ctx, "node-a", metav1.GetOptions{}); err != nil {
		t.Fatalf("node-a reads its Node: %v", err)
	}

	// An open Watch stream, as an agent holds one.
	w, err := oldStream.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Send(&pb.AgentMessage{Msg: &pb.AgentMessage_Subscribe{Subscribe: &pb.Subscribe{NodeName: "node-a"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Recv(); err != nil {
		t.Fatalf("watch as node-a: %v", err)
	}
	watchEnded := make(chan error, 1)
	go func() {
		for {
			if _, err := w.Recv(); err != nil {
				watchEnded <- err
				return
			}
		}
	}()

	if err := admin.CoreV1().Nodes().Delete(ctx, "node-a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-watchEnded:
		if status.Code(err) != codes.Unauthenticated {
			t.Fatalf("the open watch ended with %v, want Unauthenticated", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the open watch of the deleted node's certificate did not end")
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		err := register(nodeStreamAs(t, m, old))
		if status.Code(err) == codes.Unauthenticated {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("register with the deleted node's certificate: %v, want Unauthenticated", err)
		}
		if err == nil { // registered again before the revocation: delete again
			_ = admin.CoreV1().Nodes().Delete(ctx, "node-a", metav1.DeleteOptions{})
		}
	}
	if _, err := admin.CoreV1().Nodes().Get(ctx, "node-a", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("node-a's Node after the refused registration: %v, want NotFound", err)
	}
	if _, err := apiAs(t, m, old).CoreV1().Nodes().Get(ctx, "node-a", metav1.GetOptions{}); !apierrors.IsUnauthorized(err) {
		t.Fatalf("the API with the deleted node's certificate: %v, want 401", err)
	}
	// The member refuses the certificate once it applies the delete; the
	// leader's controller then writes the entry.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		es, err := revoke.Entries(ctx, m.Store)
		if err == nil && len(es) == 1 && es[0].Subject == "CN=system:node:node-a,O=system:nodes" && es[0].Reason == "node deleted" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("revocation list: %+v, %v", es, err)
		}
	}

	// The freed name joins again with a new key.
	fresh := bootstrapNode(t, m, tok, "node-a")
	if err := register(nodeStreamAs(t, m, fresh)); err != nil {
		t.Fatalf("node-a joined again: register: %v", err)
	}
}

// TestRevocationFailsClosed: a member that cannot read the revocation
// list (restarted without a quorum) refuses every client certificate with
// a 401 while the cluster token works; once the quorum is back it loads
// the list and accepts the certificate.
func TestRevocationFailsClosed(t *testing.T) {
	m1 := startMember(t, Config{Name: "m1", DataDir: t.TempDir(), Bootstrap: true})
	d2 := t.TempDir()
	if err := os.WriteFile(filepath.Join(d2, "cluster-secret"), mustRead(t, filepath.Join(m1.cfg.DataDir, "cluster-secret")), 0o600); err != nil {
		t.Fatal(err)
	}
	m2 := startMember(t, Config{Name: "m2", DataDir: d2, Join: []string{m1.Store.PeerAddr()}})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := m1.EnsureDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	alice, _ := userTLS(t, m1, "alice")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if code, _ := get(t, m2, withCert(m2, alice), "", "/api"); code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("alice's certificate does not work on m2")
		}
	}
	addr1, peer1, addr2, peer2, d1 := m1.APIAddr(), m1.Store.PeerAddr(), m2.APIAddr(), m2.Store.PeerAddr(), m1.cfg.DataDir
	m2.Close()
	m1.Close()

	m2 = startMember(t, Config{Name: "m2", DataDir: d2, Listen: addr2, Peer: peer2})
	time.Sleep(500 * time.Millisecond)
	if code, body := get(t, m2, withCert(m2, alice), "", "/api"); code != http.StatusUnauthorized {
		t.Fatalf("a client certificate on a member that has not read the list: %d %s, want 401", code, body)
	}
	if code, body := get(t, m2, m2.ClientTLS(), m2.Store.Token(), "/api"); code != http.StatusOK {
		t.Fatalf("the cluster token meanwhile: %d %s", code, body)
	}

	startMember(t, Config{Name: "m1", DataDir: d1, Listen: addr1, Peer: peer1})
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if code, _ := get(t, m2, withCert(m2, alice), "", "/api"); code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("alice's certificate still refused on m2 with the quorum back")
		}
	}
}
