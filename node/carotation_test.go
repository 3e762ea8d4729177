package node

import (
	"bytes"
	"context"
	"crypto/tls"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weirnet/weir/control/nodestream"
	"github.com/weirnet/weir/control/store/storetest"
)

// TestAgentFollowsCARotation: a control plane whose CA rotates (as a
// member's does: Config.CurrentCA, a serving certificate from the CA in
// force). The agent, started with --ca-file of the old CA only, meets a
// server certificate of the new CA, renews from it at once and keeps the
// bundle it got (pki/ca.crt, both CAs); after the rotation finishes it
// still reaches the control plane, also restarted with the old
// --ca-file.
func TestAgentFollowsCARotation(t *testing.T) {
	var cur atomic.Pointer[nodestream.CA]
	cp := startControlPlaneWith(t, func(c *nodestream.Config) {
		cur.Store(c.CA)
		c.CurrentCA = cur.Load
		var mu sync.Mutex
		var cert *tls.Certificate
		var of *nodestream.CA
		c.TLS = &tls.Config{MinVersion: tls.VersionTLS13, NextProtos: []string{"h2"},
			GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
				ca := cur.Load()
				mu.Lock()
				defer mu.Unlock()
				if cert == nil || of != ca {
					c, err := ca.IssueServing("weir node stream", "127.0.0.1")
					if err != nil {
						return nil, err
					}
					cert, of = c, ca
				}
				return cert, nil
			}}
	})
	oldPEM := cp.ca.CertPEM
	dir := t.TempDir()
	run := func(token string) (*Agent, func()) {
		a, err := New(Config{Server: cp.addr, BootstrapToken: token, CAPEM: oldPEM, NodeName: "rot-node",
			DataDir: dir, UnderlayIface: "lo", Addresses: []string{"127.0.0.1"},
			CNIConfDir: filepath.Join(dir, "net.d"), AgentSocket: filepath.Join(dir, "agent.sock"),
			Dataplane: nopDataplane{}, Routes: nopRoutes{}, DNSListen: "", Logger: storetest.Logger()})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); a.Run(ctx) }()
		return a, func() { cancel(); <-done; a.Close() }
	}
	a, stop := run(nodeToken)
	waitFor(t, "the node registered", 10*time.Second, func() bool { return registeredNode(cp, "rot-node") })

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rotated, err := nodestream.RotateCA(ctx, cp.st, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cur.Store(rotated)
	signer, _ := rotated.Signer()
	waitFor(t, "the agent renewed from the new CA", 20*time.Second, func() bool {
		c := a.id.cur.Load()
		return c != nil && c.Leaf.CheckSignatureFrom(signer) == nil
	})
	bundle, err := os.ReadFile(filepath.Join(dir, "pki", "ca.crt"))
	if err != nil || bytes.Count(bundle, []byte("BEGIN CERTIFICATE")) != 2 {
		t.Fatalf("pki/ca.crt during the transition: %v, %d certificates", err, bytes.Count(bundle, []byte("BEGIN CERTIFICATE")))
	}

	finished, err := nodestream.FinishCARotation(ctx, cp.st)
	if err != nil {
		t.Fatal(err)
	}
	cur.Store(finished)
	// The server closes the agent's connection at the change; the agent's
	// client reconnects, verifying the new CA with its bundle.
	time.Sleep(2 * time.Second)
	if _, err := a.client.Register(ctx, a.registerRequest()); err != nil {
		t.Fatalf("the agent's client after the rotation finished: %v", err)
	}
	cp.del(t, "nodes", "", "rot-node")
	stop()
	_, stop = run("")
	defer stop()
	waitFor(t, "the node registered after the rotation, with --ca-file of the old CA", 15*time.Second, func() bool { return registeredNode(cp, "rot-node") })
}
