package nodestream

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/store"
	"github.com/weirnet/weir/control/store/storetest"
	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

type env struct {
	t    *testing.T
	st   *store.Store
	srv  *Server
	ca   *CA
	addr string
}

// newEnv starts a one-member store and a node-stream server on loopback.
func newEnv(t *testing.T, tune func(*store.Config, *Config)) *env {
	t.Helper()
	sc := storetest.Config("m1", t.TempDir())
	sc.Bootstrap = true
	cfg := Config{LeaseRenew: time.Hour, Logger: storetest.Logger()}
	if tune != nil {
		tune(&sc, &cfg)
	}
	st := storetest.Open(t, sc)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ca, err := EnsureCA(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store, cfg.CA = st, ca
	if cfg.TLS, err = ca.ServerTLS("127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return &env{t: t, st: st, srv: srv, ca: ca, addr: ln.Addr().String()}
}

// client is a client with node's certificate.
func (e *env) client(node string) pb.NodeStreamClient {
	e.t.Helper()
	cert, err := e.ca.NodeClientCert(node, time.Hour)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.dial(DialConfig{Certificate: func() (*tls.Certificate, error) { return cert, nil }})
}

// dial is a client of dc (Addr and CAPEM default to the env's).
func (e *env) dial(dc DialConfig) pb.NodeStreamClient {
	e.t.Helper()
	if dc.Addr == "" {
		dc.Addr = e.addr
	}
	if dc.CAPEM == nil {
		dc.CAPEM = e.ca.CertPEM
	}
	c, conn, err := Dial(dc)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { conn.Close() })
	return c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func (e *env) register(name, ip string) *pb.RegisterResponse {
	e.t.Helper()
	resp, err := e.client(name).Register(ctxT(e.t), &pb.RegisterRequest{NodeName: name, Addresses: []string{ip},
		Capacity: map[string]string{"cpu": "2", "pods": "110"}, KernelVersion: "6.1.0"})
	if err != nil {
		e.t.Fatalf("register %s: %v", name, err)
	}
	return resp
}

func (e *env) put(res, ns, name string, obj any) uint64 {
	e.t.Helper()
	val, err := json.Marshal(obj)
	if err != nil {
		e.t.Fatal(err)
	}
	r, err := e.st.Txn(ctxT(e.t), store.Txn{ID: newUID(), Ops: []store.Op{{Kind: store.Put, Key: store.Key{Resource: res, Namespace: ns, Name: name}, Value: val}}})
	if err != nil {
		e.t.Fatal(err)
	}
	return r.Revision
}

func (e *env) del(res, ns, name string) {
	e.t.Helper()
	if _, err := e.st.Txn(ctxT(e.t), store.Txn{ID: newUID(), Ops: []store.Op{{Kind: store.Delete, Key: store.Key{Resource: res, Namespace: ns, Name: name}}}}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) node(name string) *corev1.Node {
	e.t.Helper()
	o, err := e.st.Get(ctxT(e.t), nodeKey(name), store.ReadOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	n, err := decodeNode(o)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func service(name string) *corev1.Service {
	return &corev1.Service{TypeMeta: metav1.TypeMeta{Kind: "Service", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec:       corev1.ServiceSpec{ClusterIP: "10.96.0.10", Ports: []corev1.ServicePort{{Port: 80, Protocol: corev1.ProtocolTCP}}}}
}

func slice(name, ip string) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{TypeMeta: metav1.TypeMeta{Kind: "EndpointSlice", APIVersion: "discovery.k8s.io/v1"},
		ObjectMeta:  metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"kubernetes.io/service-name": "web"}},
		AddressType: discoveryv1.AddressTypeIPv4, Endpoints: []discoveryv1.Endpoint{{Addresses: []string{ip}}}}
}

func pod(name, node string) *corev1.Pod {
	return &corev1.Pod{TypeMeta: metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec:       corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
}

// agent is a test stream client that keeps what it received per kind.
type agent struct {
	t        *testing.T
	stream   grpc.BidiStreamingClient[pb.AgentMessage, pb.ServerMessage]
	cancel   context.CancelFunc
	msgs     chan *pb.ServerMessage
	versions map[int32]uint64
	objects  map[pb.Kind]map[string]*pb.Resource
}

func (e *env) watch(node string, versions map[int32]uint64) *agent {
	e.t.Helper()
	ctx, cancel := context.WithCancel(ctxT(e.t))
	s, err := e.client(node).Watch(ctx)
	if err != nil {
		cancel()
		e.t.Fatal(err)
	}
	a := &agent{t: e.t, stream: s, cancel: cancel, msgs: make(chan *pb.ServerMessage, 1000), versions: map[int32]uint64{}, objects: map[pb.Kind]map[string]*pb.Resource{}}
	for k, v := range versions {
		a.versions[k] = v
	}
	if err := s.Send(&pb.AgentMessage{Msg: &pb.AgentMessage_Subscribe{Subscribe: &pb.Subscribe{NodeName: node, Versions: versions}}}); err != nil {
		e.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(a.msgs)
		for {
			m, err := s.Recv()
			if err != nil {
				return
			}
			a.msgs <- m
		}
	}()
	e.t.Cleanup(func() { cancel(); <-done })
	return a
}

// next returns the next message of kind k, applying every message it reads.
func (a *agent) next(k pb.Kind) *pb.ServerMessage {
	a.t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case m, ok := <-a.msgs:
			if !ok {
				a.t.Fatalf("stream ended while waiting for %s", k)
			}
			a.apply(m)
			if m.Kind == k {
				return m
			}
		case <-timeout:
			a.t.Fatalf("no %s message within 20s", k)
		}
	}
}

func (a *agent) apply(m *pb.ServerMessage) {
	if m.Snapshot || a.objects[m.Kind] == nil {
		a.objects[m.Kind] = map[string]*pb.Resource{}
	}
	for _, r := range m.Resources {
		if r.Deleted {
			delete(a.objects[m.Kind], r.Namespace+"/"+r.Name)
		} else {
			a.objects[m.Kind][r.Namespace+"/"+r.Name] = r
		}
	}
	a.versions[int32(m.Kind)] = m.Version
}

func (a *agent) ack(m *pb.ServerMessage, errText string) {
	a.t.Helper()
	if err := a.stream.Send(&pb.AgentMessage{Msg: &pb.AgentMessage_Ack{Ack: &pb.Ack{Kind: m.Kind, Version: m.Version, Nonce: m.Nonce, Error: errText}}}); err != nil {
		a.t.Fatal(err)
	}
}

// snapshots reads the four initial snapshots.
func (a *agent) snapshots() {
	a.t.Helper()
	for range kindSpecs {
		select {
		case m := <-a.msgs:
			if !m.Snapshot {
				a.t.Fatalf("want a snapshot first, got a %s delta", m.Kind)
			}
			a.apply(m)
		case <-time.After(20 * time.Second):
			a.t.Fatal("no snapshot within 20s")
		}
	}
}

func names(m map[string]*pb.Resource) string {
	s := ""
	for k := range m {
		s += k + " "
	}
	return fmt.Sprint(len(m), ": ", s)
}

// eventually polls cond for up to 20 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// value reads a counter or gauge.
func value(t *testing.T, m prometheus.Metric) float64 {
	t.Helper()
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		t.Fatal(err)
	}
	if d.Counter != nil {
		return d.Counter.GetValue()
	}
	return d.Gauge.GetValue()
}
