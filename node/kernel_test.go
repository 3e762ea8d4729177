package node

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/dataplane"
	"github.com/weirnet/weir/dns"
	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

// recordingDataplane records what the reconciler asks of the dataplane,
// one line per call, to check which services a change reaches. The kernel
// side is tested for real in TestDeltaAcceptance.
type recordingDataplane struct {
	calls []string
	err   error // returned by Upsert and Delete
}

func (d *recordingDataplane) record(op string, svcs []dataplane.Service) {
	var names []string
	for _, s := range svcs {
		n := s.String()
		for _, b := range s.Backends {
			n += " " + b.Addr.String()
		}
		names = append(names, n)
	}
	slices.Sort(names)
	d.calls = append(d.calls, op+" "+strings.Join(names, ", "))
}

func (d *recordingDataplane) Sync(_ context.Context, des dataplane.Desired) (dataplane.SyncStats, error) {
	d.calls = append(d.calls, fmt.Sprintf("sync %d", len(des.Services)))
	return dataplane.SyncStats{}, nil
}

func (d *recordingDataplane) Resync(_ context.Context, des dataplane.Desired) (dataplane.SyncStats, error) {
	d.calls = append(d.calls, fmt.Sprintf("resync %d", len(des.Services)))
	return dataplane.SyncStats{}, nil
}

func (d *recordingDataplane) Upsert(_ context.Context, svcs ...dataplane.Service) (dataplane.SyncStats, error) {
	d.record("upsert", svcs)
	return dataplane.SyncStats{}, d.err
}

func (d *recordingDataplane) Delete(_ context.Context, svcs ...dataplane.Service) (dataplane.SyncStats, error) {
	d.record("delete", svcs)
	return dataplane.SyncStats{}, d.err
}

func (d *recordingDataplane) take() string {
	out := strings.Join(d.calls, "; ")
	d.calls = nil
	return out
}

// svcObj is a ClusterIP Service with the given TCP port names (port 80, 81, ...).
func svcObj(name, ip, rv string, ports ...string) *corev1.Service {
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, ResourceVersion: rv},
		Spec: corev1.ServiceSpec{ClusterIP: ip, ClusterIPs: []string{ip}}}
	for i, p := range ports {
		s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Name: p, Port: int32(80 + i), Protocol: corev1.ProtocolTCP})
	}
	return s
}

// sliceObj is an EndpointSlice of service svc with one ready endpoint per
// address on port 8080 named "http".
func sliceObj(name, svc, rv string, addrs ...string) *discoveryv1.EndpointSlice {
	port, pname, proto := int32(8080), "http", corev1.ProtocolTCP
	sl := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, ResourceVersion: rv,
		Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		AddressType: discoveryv1.AddressTypeIPv4, Ports: []discoveryv1.EndpointPort{{Name: &pname, Port: &port, Protocol: &proto}}}
	for _, a := range addrs {
		sl.Endpoints = append(sl.Endpoints, discoveryv1.Endpoint{Addresses: []string{a}})
	}
	return sl
}

// message builds a node-stream message of kind from objects (a
// types.NamespacedName-like "ns/name" string marks a deletion).
func message(t testing.TB, kind pb.Kind, version uint64, snapshot bool, objs ...any) *pb.ServerMessage {
	t.Helper()
	m := &pb.ServerMessage{Kind: kind, Version: version, Snapshot: snapshot}
	for _, o := range objs {
		if key, ok := o.(string); ok {
			ns, name, _ := strings.Cut(key, "/")
			m.Resources = append(m.Resources, &pb.Resource{Namespace: ns, Name: name, Deleted: true})
			continue
		}
		js, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		meta := o.(metav1.Object)
		m.Resources = append(m.Resources, &pb.Resource{Namespace: meta.GetNamespace(), Name: meta.GetName(), Json: js})
	}
	return m
}

// TestStateChange: Apply reports the keys a message changed and deleted;
// an object sent again at the same resourceVersion is no change; a
// snapshot reports what it dropped; slices carry the service they left.
func TestStateChange(t *testing.T) {
	st := NewState()
	apply := func(m *pb.ServerMessage) Change {
		t.Helper()
		c, err := st.Apply(m)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	str := func(c Change) string {
		return fmt.Sprintf("changed=%v deleted=%v was=%v", c.Changed, c.Deleted, c.WasService)
	}
	S := pb.Kind_KIND_SERVICES
	for _, step := range []struct {
		m    *pb.ServerMessage
		want string
	}{
		{message(t, S, 1, true, svcObj("a", "10.96.0.1", "1"), svcObj("b", "10.96.0.2", "1")), "changed=[default/a default/b] deleted=[] was=map[]"},
		{message(t, S, 2, false, svcObj("a", "10.96.0.1", "1")), "changed=[] deleted=[] was=map[]"},
		{message(t, S, 3, false, svcObj("a", "10.96.0.9", "2"), "default/b", "default/nosuch"), "changed=[default/a] deleted=[default/b] was=map[]"},
		{message(t, S, 4, true, svcObj("c", "10.96.0.3", "1"), svcObj("a", "10.96.0.9", "2")), "changed=[default/c] deleted=[] was=map[]"},
		{message(t, S, 5, true, svcObj("c", "10.96.0.3", "1")), "changed=[] deleted=[default/a] was=map[]"},
		{message(t, S, 6, false, svcObj("c", "10.96.0.3", "")), "changed=[default/c] deleted=[] was=map[]"}, // no version: always a change
	} {
		if got := str(apply(step.m)); got != step.want {
			t.Errorf("version %d: %s, want %s", step.m.Version, got, step.want)
		}
	}
	E := pb.Kind_KIND_ENDPOINTSLICES
	apply(message(t, E, 1, true, sliceObj("x", "a", "1", "10.244.0.1"), sliceObj("y", "a", "1", "10.244.0.2")))
	if got := str(apply(message(t, E, 2, false, sliceObj("x", "b", "2", "10.244.0.1"), "default/y"))); got != "changed=[default/x] deleted=[default/y] was=map[default/x:default/a default/y:default/a]" {
		t.Errorf("moved and deleted slice: %s", got)
	}
	if got := len(st.SlicesOf("default/a")); got != 0 {
		t.Errorf("service a still has %d slices", got)
	}
	if sl := st.SlicesOf("default/b"); len(sl) != 1 || sl[0].Name != "x" {
		t.Errorf("slices of b: %v", sl)
	}
}

// TestReconcilerDeltas: after the first full Sync, each change reaches the
// dataplane as Upsert/Delete of exactly the services it touches: a slice
// maps to its service (before and after a move), a deleted service or a
// dropped port is deleted, and messages of other kinds touch nothing.
func TestReconcilerDeltas(t *testing.T) {
	dp := &recordingDataplane{}
	r := &Reconciler{Dataplane: dp, Routes: nopRoutes{}}
	st := NewState()
	S, E := pb.Kind_KIND_SERVICES, pb.Kind_KIND_ENDPOINTSLICES
	step := func(m *pb.ServerMessage, want string) {
		t.Helper()
		c, err := st.Apply(m)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Apply(t.Context(), st, c); err != nil {
			t.Fatal(err)
		}
		if got := dp.take(); got != want {
			t.Errorf("%s v%d:\n got  %s\n want %s", m.Kind, m.Version, got, want)
		}
	}
	if _, err := st.Apply(message(t, S, 1, true, svcObj("a", "10.96.0.1", "1", "http"), svcObj("b", "10.96.0.2", "1", "http"),
		svcObj("c", "10.96.0.3", "1", "http", "metrics"))); err != nil {
		t.Fatal(err)
	}
	step(message(t, E, 1, true, sliceObj("a-1", "a", "1", "10.244.0.1"), sliceObj("b-1", "b", "1", "10.244.0.2"),
		sliceObj("c-1", "c", "1", "10.244.0.3")), "sync 4") // the first apply: everything
	step(message(t, E, 2, false, sliceObj("a-1", "a", "2", "10.244.0.1", "10.244.0.11")),
		"upsert default/a:http/TCP 10.244.0.1 10.244.0.11")
	step(message(t, E, 3, false, sliceObj("a-1", "a", "2", "10.244.0.1", "10.244.0.11")), "") // same version: nothing
	step(message(t, E, 4, false, sliceObj("a-1", "b", "3", "10.244.0.1")),                    // moved from a to b
		"upsert default/a:http/TCP, default/b:http/TCP 10.244.0.1 10.244.0.2")
	step(message(t, E, 5, false, "default/b-1"), "upsert default/b:http/TCP 10.244.0.1") // slice deleted
	step(message(t, S, 2, false, "default/b"), "delete default/b:http/TCP")              // service deleted
	step(message(t, E, 6, false, "default/a-1"), "")                                     // a slice of a deleted service
	step(message(t, S, 3, false, svcObj("c", "10.96.0.3", "2", "http")),                 // a port dropped
		"delete default/c:metrics/TCP; upsert default/c:http/TCP 10.244.0.3")
	headless := svcObj("c", "None", "3", "http")
	step(message(t, S, 4, false, headless), "delete default/c:http/TCP") // no longer load-balanced
	step(message(t, S, 5, false, svcObj("d", "10.96.0.4", "1", "http")), "upsert default/d:http/TCP")
	step(message(t, pb.Kind_KIND_PODS, 1, false, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "p"}}), "")
	step(&pb.ServerMessage{Kind: pb.Kind_KIND_ROUTES, Version: 1}, "")
	step(message(t, E, 7, true, sliceObj("d-1", "d", "1", "10.244.0.4")), "sync 2") // a snapshot: full Sync
	if _, err := r.Resync(t.Context(), func() ([]corev1.Service, []discoveryv1.EndpointSlice) { return st.Services(), st.Slices() }); err != nil {
		t.Fatal(err)
	}
	if got := dp.take(); got != "resync 2" {
		t.Errorf("resync: %s", got)
	}
}

// TestReconcilerDNSDeltas: with 10,000 services in a real DNS server, a
// change reaches it as a delta of only what changed (the names it rebuilt
// are counted), never as a full Update after the first; a pod message
// touches that pod only. The apply times are logged, not gated.
func TestReconcilerDNSDeltas(t *testing.T) {
	reg := prometheus.NewRegistry()
	srv, err := dns.NewServer(dns.Config{PodRecords: dns.PodsVerified, Registerer: reg, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	udp, tcp, err := dns.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(context.Background(), udp, tcp) }()
	defer func() { srv.Close(); <-done }()
	addr := tcp.Addr().String()

	r := &Reconciler{Dataplane: nopDataplane{}, Routes: nopRoutes{}, Listener: srv}
	st := NewState()
	const n = 10000
	var svcs, eps []any
	for i := range n {
		name := fmt.Sprintf("s%d", i)
		svcs = append(svcs, svcObj(name, fmt.Sprintf("10.96.%d.%d", i/250, 1+i%250), "1", "http"))
		eps = append(eps, sliceObj(name+"-1", name, "1", fmt.Sprintf("10.244.%d.%d", i/250, 1+i%250)))
	}
	apply := func(m *pb.ServerMessage) {
		t.Helper()
		c, err := st.Apply(m)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Apply(t.Context(), st, c); err != nil {
			t.Fatal(err)
		}
	}
	apply(message(t, pb.Kind_KIND_SERVICES, 1, true, svcs...))
	full := time.Now()
	apply(message(t, pb.Kind_KIND_ENDPOINTSLICES, 1, true, eps...))
	fullTook := time.Since(full)
	if got := lookupA(addr, "udp", "s7.default.svc.cluster.local."); got != "10.96.0.8" {
		t.Fatalf("s7 = %q after the snapshots", got)
	}
	names := func() float64 { return gathered(t, reg, "weir_dns_names_changed_total") }
	before := names()
	start := time.Now()
	apply(message(t, pb.Kind_KIND_SERVICES, 2, false, svcObj("s7", "10.96.200.7", "2", "http"), "default/s9", svcObj("late", "10.96.201.1", "1", "http")))
	deltaTook := time.Since(start)
	for name, want := range map[string]string{"s7": "10.96.200.7", "s9": "NXDOMAIN", "late": "10.96.201.1", "s8": "10.96.0.9"} {
		if got := lookupA(addr, "udp", name+".default.svc.cluster.local."); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	// s7, s9 and late: each its name, SRV name and empty non-terminals, PTRs.
	if got := names() - before; got == 0 || got > 30 {
		t.Errorf("a delta of 3 services rebuilt %v names", got)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "p", ResourceVersion: "1"},
		Status: corev1.PodStatus{PodIP: "10.244.99.7", PodIPs: []corev1.PodIP{{IP: "10.244.99.7"}}}}
	before = names()
	apply(message(t, pb.Kind_KIND_PODS, 1, false, pod))
	if got := lookupA(addr, "udp", "10-244-99-7.default.pod.cluster.local."); got != "10.244.99.7" {
		t.Errorf("pod record = %q", got)
	}
	if got := names() - before; got == 0 || got > 8 {
		t.Errorf("one pod rebuilt %v names", got)
	}
	if got := gathered(t, reg, "weir_dns_full_updates_total"); got != 1 {
		t.Errorf("full DNS updates = %v, want only the first", got)
	}
	t.Logf("%d services: first full apply (DNS Update) %v; a message changing 3 services %v", n, fullTook, deltaTook)
}

// gathered is the value of the counter or gauge name in reg (0 if absent).
func gathered(t testing.TB, reg prometheus.Gatherer, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		var sum float64
		for _, m := range mf.GetMetric() {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
		return sum
	}
	return 0
}

// TestResyncDue: no Resync before the first full Sync; then one per
// interval, or one after minGap once a change failed in the dataplane.
func TestResyncDue(t *testing.T) {
	dp := &recordingDataplane{}
	r := &Reconciler{Dataplane: dp, Routes: nopRoutes{}}
	st := NewState()
	const interval, gap = time.Hour, time.Minute
	if r.ResyncDue(time.Now().Add(2*interval), interval, gap) {
		t.Fatal("resync due before the first Sync")
	}
	apply := func(m *pb.ServerMessage) error {
		c, err := st.Apply(m)
		if err != nil {
			t.Fatal(err)
		}
		return r.Apply(t.Context(), st, c)
	}
	apply(message(t, pb.Kind_KIND_SERVICES, 1, true, svcObj("a", "10.96.0.1", "1", "http")))
	now := time.Now()
	if r.ResyncDue(now.Add(2*gap), interval, gap) || !r.ResyncDue(now.Add(interval+time.Second), interval, gap) {
		t.Error("want a resync after the interval, not before")
	}
	dp.err = fmt.Errorf("kernel says no")
	if err := apply(message(t, pb.Kind_KIND_SERVICES, 2, false, svcObj("a", "10.96.0.2", "2", "http"))); err == nil || !strings.Contains(err.Error(), "kernel says no") {
		t.Fatalf("failed change: %v", err)
	}
	if r.ResyncDue(time.Now(), interval, gap) || !r.ResyncDue(time.Now().Add(gap+time.Second), interval, gap) {
		t.Error("want a resync minGap after a failed change")
	}
	dp.err = nil
	if _, err := r.Resync(t.Context(), func() ([]corev1.Service, []discoveryv1.EndpointSlice) { return st.Services(), st.Slices() }); err != nil {
		t.Fatal(err)
	}
	if r.ResyncDue(time.Now().Add(gap+time.Second), interval, gap) {
		t.Error("still due right after a Resync")
	}
}
