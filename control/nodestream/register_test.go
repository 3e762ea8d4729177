package nodestream

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	corev1 "k8s.io/api/core/v1"

	pb "github.com/weirnet/weir/control/nodestream/nodestreampb"
	"github.com/weirnet/weir/control/store"
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
			r, err := e.client(testToken).Register(ctxT(t), &pb.RegisterRequest{NodeName: fmt.Sprintf("n%d", i), Addresses: []string{fmt.Sprintf("192.0.2.%d", i+1)}})
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
	_, err := e.client(testToken).Register(ctxT(t), &pb.RegisterRequest{NodeName: "c", Addresses: []string{"192.0.2.3"}})
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
		if _, err := e.client(testToken).Register(ctxT(t), req); status.Code(err) != codes.InvalidArgument {
			t.Errorf("%v: %v, want InvalidArgument", req, err)
		}
	}
}

func TestBadTokenRejected(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client("wrong-token-0123456789")
	if _, err := c.Register(ctxT(t), &pb.RegisterRequest{NodeName: "a", Addresses: []string{"192.0.2.1"}}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("register with a wrong token: %v, want Unauthenticated", err)
	}
	s, err := c.Watch(ctxT(t))
	if err == nil {
		s.Send(&pb.AgentMessage{Msg: &pb.AgentMessage_Subscribe{Subscribe: &pb.Subscribe{NodeName: "a"}}})
		_, err = s.Recv()
	}
	if status.Code(err) != codes.Unauthenticated {
		t.Errorf("watch with a wrong token: %v, want Unauthenticated", err)
	}
}

func TestTLSVerification(t *testing.T) {
	e := newEnv(t, nil)
	other, err := NewCA()
	if err != nil {
		t.Fatal(err)
	}
	for name, dc := range map[string]DialConfig{
		"other CA":   {Addr: e.addr, Token: testToken, CAPEM: other.CertPEM},
		"wrong name": {Addr: e.addr, Token: testToken, CAPEM: e.ca.CertPEM, ServerName: "evil.example"},
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
	if _, _, err := Dial(DialConfig{Addr: e.addr, Token: testToken, CAPEM: []byte("junk")}); err == nil {
		t.Error("Dial accepted a CA file without a certificate")
	}
}

func TestWatchNeedsRegistration(t *testing.T) {
	e := newEnv(t, nil)
	s, err := e.client(testToken).Watch(ctxT(t))
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
	for _, name := range []string{"theirs", "mine"} {
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
