package client_test

import (
	"bytes"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/weirnet/weir/control/client"
	"github.com/weirnet/weir/control/client/printers"
	"github.com/weirnet/weir/control/nodestream"
	"github.com/weirnet/weir/control/store/storetest"
	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

// TestE2EDescribePodEvents: pod events an agent sends on the node stream
// show in `weir describe pod` (EventsFor + Describe against the real API
// on the same store), repeats folded ("x2 over"), From naming the agent
// and its node.
func TestE2EDescribePodEvents(t *testing.T) {
	cl := newCluster(t)
	ctx := ctxT(t)
	pod := apply(t, cl.client, `
apiVersion: v1
kind: Pod
metadata: {name: web}
spec: {nodeName: node-1, containers: [{name: app, image: weir/testimage:1}]}
`, client.NamespaceOptions{Namespace: "default"})[0].Object

	ns := startNodeStream(t, cl)
	if _, err := ns.Register(ctx, &pb.RegisterRequest{NodeName: "node-1", Addresses: []string{"192.0.2.1"},
		Capacity: map[string]string{"cpu": "2", "pods": "110"}}); err != nil {
		t.Fatal(err)
	}
	ws, err := ns.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	go func() { // the node's updates: not needed here
		for {
			if _, err := ws.Recv(); err != nil {
				return
			}
		}
	}()
	send := func(m *pb.AgentMessage) {
		t.Helper()
		if err := ws.Send(m); err != nil {
			t.Fatal(err)
		}
	}
	send(&pb.AgentMessage{Msg: &pb.AgentMessage_Subscribe{Subscribe: &pb.Subscribe{NodeName: "node-1"}}})
	ev := func(typ, reason, msg string, at time.Time) *pb.AgentMessage {
		return &pb.AgentMessage{Msg: &pb.AgentMessage_PodEvent{PodEvent: &pb.PodEvent{Namespace: "default", Name: "web",
			Uid: string(pod.GetUID()), Type: typ, Reason: reason, Message: msg, Container: "app", UnixNano: at.UnixNano()}}}
	}
	now := time.Now()
	send(ev("Normal", "Pulled", `Container image "weir/testimage:1" already present on machine`, now.Add(-3*time.Minute)))
	send(ev("Normal", "Created", "Created container app", now.Add(-3*time.Minute)))
	send(ev("Normal", "Started", "Started container app", now.Add(-3*time.Minute)))
	send(ev("Warning", "Unhealthy", "Liveness probe failed: connection refused", now.Add(-2*time.Minute)))
	send(ev("Warning", "Unhealthy", "Liveness probe failed: connection refused", now.Add(-time.Minute)))
	send(ev("Normal", "Killing", "Container app failed liveness probe, will be restarted", now))

	var out bytes.Buffer
	deadline := time.Now().Add(20 * time.Second)
	for {
		events, err := cl.client.EventsFor(ctx, pod)
		if err != nil {
			t.Fatal(err)
		}
		out.Reset()
		if err := printers.Describe(&out, pod, events, time.Now()); err != nil {
			t.Fatal(err)
		}
		if len(events) == 5 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	text := out.String()
	t.Logf("weir describe pod web:\n%s", text)
	for _, want := range []string{"Events:", "Pulled", "already present on machine", "Created container app", "Started container app",
		"Unhealthy", "(x2 over 2m", "Liveness probe failed: connection refused", "Killing", "will be restarted", "weir-agent, node-1"} {
		if !strings.Contains(text, want) {
			t.Errorf("describe output lacks %q:\n%s", want, text)
		}
	}
	if !inOrder(text, "Pulled", "Created container", "Started container", "Unhealthy", "Killing") {
		t.Errorf("events not oldest first (those of one second in the order they happened):\n%s", text)
	}
}

// startNodeStream serves the node stream on the cluster's store and
// returns the client of node-1's agent (with node-1's certificate).
func startNodeStream(t *testing.T, cl *cluster) pb.NodeStreamClient {
	t.Helper()
	ca, err := nodestream.EnsureCA(ctxT(t), cl.store)
	if err != nil {
		t.Fatal(err)
	}
	tlsCfg, err := ca.ServerTLS("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := nodestream.New(nodestream.Config{Store: cl.store, CA: ca, TLS: tlsCfg, LeaseRenew: time.Hour, Logger: storetest.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	cert, err := ca.NodeClientCert("node-1", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c, conn, err := nodestream.Dial(nodestream.DialConfig{Addr: ln.Addr().String(), CAPEM: ca.CertPEM,
		Certificate: func() (*tls.Certificate, error) { return cert, nil }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		srv.Close()
		if err := <-done; err != nil {
			t.Errorf("node stream serve: %v", err)
		}
	})
	return c
}

// inOrder says each of subs occurs in s after the one before.
func inOrder(s string, subs ...string) bool {
	at := 0
	for _, sub := range subs {
		i := strings.Index(s[at:], sub)
		if i < 0 {
			return false
		}
		at += i + len(sub)
	}
	return true
}
