package nodestream

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	corev1 "k8s.io/api/core/v1"

	"github.com/weirnet/weir/control/store"
	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

func TestCIDRsUniqueUnderConcurrentRegisters(t *testing.T) {
	e := newEnv(t, nil)
	const n = 24
	got := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := e.client(fmt.Sprintf("n%d", i)).Register(ctxT(t), &pb.RegisterRequest{NodeName: fmt.Sprintf("n%d", i), Addresses: []string{fmt.Sprintf("192.0.2.%d", i+1)}})
			if err != nil {
				errs <- err
				return
			}
			got[i] = r.PodCidr
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for i, c := range got {
		if other, dup := seen[c]; dup {
			t.Fatalf("n%d and %s both got %s", i, other, c)
		}
		seen[c] = fmt.Sprintf("n%d", i)
		if e.node(fmt.Sprintf("n%d", i)).Spec.PodCIDR != c {
			t.Errorf("n%d: node spec.podCIDR differs from the answer %s", i, c)
		}
	}
	// Re-registering keeps the CIDR.
	if r := e.register("n3", "192.0.2.4"); r.PodCidr != got[3] {
		t.Errorf("re-register changed n3's CIDR %s -> %s", got[3], r.PodCidr)
	}
}

func TestCIDRFreedOnNodeDelete(t *testing.T) {
	e := newEnv(t, func(_ *store.Config, c *Config) { c.ClusterCIDR = "10.250.0.0/23" })
	if r := e.register("a", "192.0.2.1"); r.PodCidr != "10.250.0.0/24" || r.ClusterCidr != "10.250.0.0/23" {
		t.Fatalf("a got %v", r)
	}
	e.register("b", "192.0.2.2")
	_, err := e.client("c").Register(ctxT(t), &pb.RegisterRequest{NodeName: "c", Addresses: []string{"192.0.2.3"}})
	if status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("third node in a /23: %v, want ResourceExhausted", err)
	}
	e.del(resNodes, "", "a")
	if r := e.register("c", "192.0.2.3"); r.PodCidr != "10.250.0.0/24" {
		t.Errorf("c got %s, want a's freed 10.250.0.0/24", r.PodCidr)
	}
}

func TestRegisterValidation(t *testing.T) {
	e := newEnv(t, nil)
	for _, req := range []*pb.RegisterRequest{
		{NodeName: "Bad_Name", Addresses: []string{"192.0.2.1"}},
		{NodeName: "a"},
		{NodeName: "a", Addresses: []string{"nope"}},
		{NodeName: "a", Addresses: []string{"192.0.2.1"}, Capacity: map[string]string{"cpu": "two"}},
	} {
		if _, err := e.client(req.NodeName).Register(ctxT(t), req); status.Code(err) != codes.InvalidArgument {
			t.Errorf("%v: %v, want InvalidArgument", req, err)
		}
	}
}

func TestNoCredentialRejected(t *testing.T) {
	e := newEnv(t, nil)
	other, err := NewCA()
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := other.NodeClientCert("a", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]pb.NodeStreamClient{
		"unknown bootstrap token": e.dial(DialConfig{BootstrapToken: "abcdef.0123456789abcdef"}),
		"no certificate":          e.dial(DialConfig{Certificate: func() (*tls.Certificate, error) { return nil, nil }}),
	} {
		if _, err := c.Register(ctxT(t), &pb.RegisterRequest{NodeName: "a", Addresses: []string{"192.0.2.1"}}); status.Code(err) != codes.Unauthenticated {
			t.Errorf("%s: register: %v, want Unauthenticated", name, err)
		}
		s, err := c.Watch(ctxT(t))
		if err == nil {
			s.Send(&pb.AgentMessage{Msg: &pb.AgentMessage_Subscribe{Subscribe: &pb.Subscribe{NodeName: "a"}}})
			_, err = s.Recv()
		}
		if status.Code(err) != codes.Unauthenticated {
			t.Errorf("%s: watch: %v, want Unauthenticated", name, err)
		}
	}
	c := e.dial(DialConfig{Certificate: func() (*tls.Certificate, error) { return foreign, nil }})
	if _, err := c.Register(ctxT(t), &pb.RegisterRequest{NodeName: "a", Addresses: []string{"192.0.2.1"}}); status.Code(err) != codes.Unavailable {
		t.Errorf("a certificate of another CA: %v, want Unavailable (handshake refused)", err)
	}
}

func TestTLSVerification(t *testing.T) {
	e := newEnv(t, nil)
	other, err := NewCA()
	if err != nil {
		t.Fatal(err)
	}
	cert, err := e.ca.NodeClientCert("a", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	get := func() (*tls.Certificate, error) { return cert, nil }
	for name, dc := range map[string]DialConfig{
		"other CA":   {Addr: e.addr, Certificate: get, CAPEM: other.CertPEM},
		"wrong name": {Addr: e.addr, Certificate: get, CAPEM: e.ca.CertPEM, ServerName: "evil.example"},
	} {
		c, conn, err := Dial(dc)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Register(ctxT(t), &pb.RegisterRequest{NodeName: "a", Addresses: []string{"192.0.2.1"}})
		conn.Close()
		if status.Code(err) != codes.Unavailable {
			t.Errorf("%s: %v, want Unavailable (certificate refused)", name, err)
		}
	}
	if _, _, err := Dial(DialConfig{Addr: e.addr, Certificate: get, CAPEM: []byte("junk")}); err == nil {
		t.Error("Dial accepted a CA file without a certificate")
	}
	if _, _, err := Dial(DialConfig{Addr: e.addr, CAPEM: e.ca.CertPEM}); err == nil {
		t.Error("Dial accepted no credential")
	}
}

func TestWatchNeedsRegistration(t *testing.T) {
	e := newEnv(t, nil)
	s, err := e.client("ghost").Watch(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	s.Send(&pb.AgentMessage{Msg: &pb.AgentMessage_Subscribe{Subscribe: &pb.Subscribe{NodeName: "ghost"}}})
	if _, err := s.Recv(); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("watch of an unregistered node: %v, want FailedPrecondition", err)
	}
}

func TestPodStatusReports(t *testing.T) {
	e := newEnv(t, nil)
	e.register("a", "192.0.2.1")
	e.put(resPods, "default", "mine", pod("mine", "a"))
	e.put(resPods, "default", "theirs", pod("theirs", "b"))
	ag := e.watch("a", nil)
	ag.snapshots()
	for _, name := range []string{"mine"} { // "theirs": TestNodeCannotActForAnother
		st, _ := json.Marshal(corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.244.0.9"})
		if err := ag.stream.Send(&pb.AgentMessage{Msg: &pb.AgentMessage_PodStatus{PodStatus: &pb.PodStatus{Namespace: "default", Name: name, StatusJson: st}}}); err != nil {
			t.Fatal(err)
		}
	}
	phase := func(name string) corev1.PodPhase {
		o, err := e.st.Get(context.Background(), store.Key{Resource: resPods, Namespace: "default", Name: name}, store.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var p corev1.Pod
		json.Unmarshal(o.Value, &p)
		return p.Status.Phase
	}
	eventually(t, "mine Running", func() bool { return phase("mine") == corev1.PodRunning })
	if phase("theirs") != "" {
		t.Error("a node changed the status of a pod bound to another node")
	}
	// The status write reaches the node's own pod stream.
	if m := ag.next(pb.Kind_KIND_PODS); m.Resources[0].Name != "mine" {
		t.Errorf("pod delta = %v", m)
	}
}

func TestEnsureCAOnce(t *testing.T) {
	e := newEnv(t, nil)
	ca, err := EnsureCA(ctxT(t), e.st)
	if err != nil {
		t.Fatal(err)
	}
	if string(ca.CertPEM) != string(e.ca.CertPEM) {
		t.Error("a second EnsureCA made a new CA; every member must share the first")
	}
}
