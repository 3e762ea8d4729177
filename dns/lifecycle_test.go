package dns

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
)

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	up := startUpstream(t, goodUpstream)
	s, addr := startServer(t, Config{Registerer: reg, Upstreams: []string{up.addr}})
	f := testCluster()
	s.Update(f.services, f.slices, f.pods)
	ask(t, addr, "udp", "web.default.svc.cluster.local.", mdns.TypeA)
	ask(t, addr, "tcp", "web.default.svc.cluster.local.", mdns.TypeA)
	ask(t, addr, "udp", "nosuch.default.svc.cluster.local.", mdns.TypeAAAA)
	ask(t, addr, "udp", "www.example.org.", mdns.TypeA)
	ask(t, addr, "udp", "www.example.org.", mdns.TypeA)

	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, fam := range fams {
		for _, m := range fam.GetMetric() {
			key := fam.GetName()
			for _, l := range m.GetLabel() {
				key += "," + l.GetName() + "=" + l.GetValue()
			}
			switch {
			case m.Counter != nil:
				got[key] = m.GetCounter().GetValue()
			case m.Histogram != nil:
				got[key] = float64(m.GetHistogram().GetSampleCount())
			case m.Gauge != nil:
				got[key] = m.GetGauge().GetValue()
			}
		}
	}
	for key, want := range map[string]float64{
		"weir_dns_queries_total,rcode=NOERROR,type=A":                     4,
		"weir_dns_queries_total,rcode=NXDOMAIN,type=AAAA":                 1,
		"weir_dns_request_duration_seconds":                               5,
		"weir_dns_cache_hits_total":                                       1,
		"weir_dns_cache_misses_total":                                     1,
		"weir_dns_upstream_exchanges_total,result=ok,upstream=" + up.addr: 1,
		"weir_dns_records":                                                float64(s.Records()),
	} {
		if got[key] != want {
			t.Errorf("%s = %v, want %v", key, got[key], want)
		}
	}
	if s.Records() < 40 {
		t.Errorf("Records() = %d, want the fixture's records", s.Records())
	}
}

func TestCloseStopsEverything(t *testing.T) {
	runtime.GC()
	goroutines := runtime.NumGoroutine()
	fds := openFDs(t)
	slow := startUpstream(t, slowUpstream(time.Minute))
	s, err := NewServer(Config{Logger: quietLogger(), Upstreams: []string{slow.addr}, UpstreamTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	s.Update(nil, nil, nil)
	udp, tcp, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := udp.LocalAddr().String()
	done := make(chan error, 1)
	go func() { done <- s.Serve(context.Background(), udp, tcp) }()
	// Leave a forward in flight (UDP) and an idle TCP connection open.
	c := &mdns.Client{Timeout: 200 * time.Millisecond}
	m := new(mdns.Msg)
	m.SetQuestion("stuck.example.", mdns.TypeA)
	_, _, _ = c.Exchange(m, addr)
	conn, err := (&mdns.Client{Net: "tcp"}).Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	closed := make(chan struct{})
	go func() { _ = s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := s.Serve(context.Background(), udp, tcp); !errors.Is(err, ErrClosed) {
		t.Fatalf("Serve after Close: %v, want ErrClosed", err)
	}
	_ = conn.Close()
	waitFor(t, func() bool { return runtime.NumGoroutine() <= goroutines+8 }, "goroutines to end")
	waitFor(t, func() bool { return openFDs(t) <= fds+8 }, "file descriptors to close")
}

func TestListenAndServeStopsWithContext(t *testing.T) {
	s, err := NewServer(Config{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ListenAndServe(ctx, "127.0.0.1:0") }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ListenAndServe did not return after cancel")
	}
	if err := s.ListenAndServe(context.Background(), "not-an-address"); err == nil {
		t.Fatal("bad address accepted")
	}
}

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestApplyCountsNames: a full Update counts in full_updates_total; a delta
// counts only the names it rebuilt (here one service's name and its old
// and new PTR names), however many services the zone holds.
func TestApplyCountsNames(t *testing.T) {
	s, err := NewServer(Config{Logger: quietLogger(), Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var svcs []corev1.Service
	for i := range 500 {
		svcs = append(svcs, clusterIPSvc("default", fmt.Sprintf("s%d", i), []string{fmt.Sprintf("10.96.%d.%d", i/250, 1+i%250)}))
	}
	s.Update(svcs, nil, nil)
	if got := counterValue(t, s.m.full); got != 1 {
		t.Fatalf("full_updates_total = %v after one Update", got)
	}
	moved := clusterIPSvc("default", "s7", []string{"10.96.200.7"})
	if err := s.Apply(Delta{Services: []corev1.Service{moved}}); err != nil {
		t.Fatal(err)
	}
	// s7.default.svc.cluster.local., 8.0.96.10.in-addr.arpa., 7.200.96.10.in-addr.arpa.
	if got := counterValue(t, s.m.changed); got != 3 {
		t.Errorf("names_changed_total = %v after changing one ClusterIP, want 3", got)
	}
	if got := counterValue(t, s.m.full); got != 1 {
		t.Errorf("full_updates_total = %v after a delta, want 1", got)
	}
}
