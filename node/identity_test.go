package node

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weirnet/weir/control/nodestream"
	"github.com/weirnet/weir/control/store"
	"github.com/weirnet/weir/control/store/storetest"
)

// TestAgentBootstrapsAndRenews: an agent with only a bootstrap token gets
// its node certificate (kept 0600 in DATA-DIR/pki), registers with it,
// renews it before it expires, and a restarted agent without a token
// keeps working with the stored certificate.
func TestAgentBootstrapsAndRenews(t *testing.T) {
	cp := startControlPlaneWith(t, func(c *nodestream.Config) { c.ClientCertTTL = 4 * time.Second })
	dir := t.TempDir()
	run := func(token string) (*Agent, func()) {
		a, err := New(Config{Server: cp.addr, BootstrapToken: token, CAPEM: cp.ca.CertPEM, NodeName: "id-node",
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
	if _, err := New(Config{Server: cp.addr, CAPEM: cp.ca.CertPEM, NodeName: "id-node", DataDir: dir, UnderlayIface: "lo",
		Addresses: []string{"127.0.0.1"}, Dataplane: nopDataplane{}, Routes: nopRoutes{}}); err == nil {
		t.Fatal("an agent without certificate or bootstrap token started")
	}
	a, stop := run(nodeToken)
	registered := func() bool {
		_, err := cp.st.Get(context.Background(), store.Key{Resource: "nodes", Name: "id-node"}, store.ReadOptions{})
		return err == nil
	}
	waitFor(t, "the node registered", 10*time.Second, registered)
	certFile := filepath.Join(dir, "pki", "node.crt")
	for _, f := range []string{certFile, filepath.Join(dir, "pki", "node.key")} {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s is %v, want 0600", f, fi.Mode().Perm())
		}
	}
	first, _ := os.ReadFile(certFile)
	leaf := a.id.cur.Load().Leaf
	if leaf.Subject.CommonName != "system:node:id-node" {
		t.Errorf("certificate subject %s", leaf.Subject)
	}
	waitFor(t, "the certificate renewed", 10*time.Second, func() bool {
		now, _ := os.ReadFile(certFile)
		return len(now) > 0 && !bytes.Equal(now, first)
	})
	stop()

	// Restart without a token: the stored certificate authenticates. The
	// Node is deleted first so that registering again is observable.
	cp.del(t, "nodes", "", "id-node")
	_, stop = run("")
	defer stop()
	waitFor(t, "the node registered again with the stored certificate", 10*time.Second, registered)
}

// TestAgentRefusesClusterToken: an agent given something that is not a
// bootstrap token (the old cluster token) says so at once.
func TestAgentRefusesClusterToken(t *testing.T) {
	_, err := New(Config{Server: "127.0.0.1:1", BootstrapToken: "0123456789abcdef0123456789abcdef", CAPEM: []byte("x"), NodeName: "n",
		DataDir: t.TempDir(), UnderlayIface: "lo", Dataplane: nopDataplane{}, Routes: nopRoutes{}})
	if err == nil || !strings.Contains(err.Error(), "weir token create") {
		t.Errorf("New with a cluster token: %v, want a bootstrap-token error", err)
	}
}

// TestAgentStopsWhenNameIsTaken: an agent whose name another node's key
// owns stops with the refusal instead of retrying forever.
func TestAgentStopsWhenNameIsTaken(t *testing.T) {
	cp := startControlPlane(t)
	start := func(first bool) error {
		dir := t.TempDir()
		a, err := New(Config{Server: cp.addr, BootstrapToken: nodeToken, CAPEM: cp.ca.CertPEM, NodeName: "taken",
			DataDir: dir, UnderlayIface: "lo", Addresses: []string{"127.0.0.1"},
			CNIConfDir: filepath.Join(dir, "net.d"), AgentSocket: filepath.Join(dir, "agent.sock"),
			Dataplane: nopDataplane{}, Routes: nopRoutes{}, Logger: storetest.Logger()})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		go func() {
			for first && ctx.Err() == nil && !registeredNode(cp, "taken") {
				time.Sleep(20 * time.Millisecond)
			}
			if first && ctx.Err() == nil {
				cancel() // the first agent joined: enough
			}
		}()
		return a.Run(ctx)
	}
	if err := start(true); err != nil {
		t.Fatalf("first agent: %v", err)
	}
	err := start(false) // another data dir: another key
	if err == nil || !strings.Contains(err.Error(), "another node credential") {
		t.Errorf("second agent for the same name: %v, want the refusal", err)
	}
}

func registeredNode(cp *controlPlane, name string) bool {
	_, err := cp.st.Get(context.Background(), store.Key{Resource: "nodes", Name: name}, store.ReadOptions{})
	return err == nil
}
