package dataplane

import (
	"os"
	"runtime"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/weirnet/weir/dataplane/internal/testclient"
	"github.com/weirnet/weir/tests/testutil"
)

func metricValue(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label == "" || hasLabel(m, label, value) {
				switch {
				case m.Counter != nil:
					return m.Counter.GetValue()
				case m.Gauge != nil:
					return m.Gauge.GetValue()
				case m.Histogram != nil:
					return float64(m.Histogram.GetSampleCount())
				}
			}
		}
	}
	t.Fatalf("metric %s{%s=%q} not found", name, label, value)
	return 0
}

func hasLabel(m *dto.Metric, name, value string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}

func TestMetrics(t *testing.T) {
	e := newEnv(t, 3)
	e.serveBackends(t, 8080)
	reg := prometheus.NewRegistry()
	m := newTestManager(t, Config{CgroupPath: e.cgroup, Registerer: reg})
	empty := clusterIPService("empty", TCP, 0, false)
	empty.ClusterIPs = addrs("10.96.0.11")
	mustSync(t, m, clusterIPService("web", TCP, 3, false), empty)
	c := startClient(t, e.client, e.cgroup)
	c.do(t, testclient.Request{Op: "tcp", Addr: "10.96.0.10:80", N: 10, Linger0: true})

	if v := metricValue(t, reg, "weir_dataplane_service_flows_total", "service", "default/web:p/TCP/v4"); v != 10 {
		t.Errorf("flows of web = %v, want 10", v)
	}
	if v := metricValue(t, reg, "weir_dataplane_map_entries", "map", "lb_services"); v != 5 {
		t.Errorf("lb_services entries = %v, want 5 (2 masters, 3 slots)", v)
	}
	if v := metricValue(t, reg, "weir_dataplane_syncs_total", "result", "ok"); v != 1 {
		t.Errorf("ok syncs = %v, want 1", v)
	}
	if v := metricValue(t, reg, "weir_dataplane_sync_duration_seconds", "", ""); v != 1 {
		t.Errorf("sync duration samples = %v, want 1", v)
	}
	m.Close()
	if mfs, _ := reg.Gather(); len(mfs) != 0 {
		t.Errorf("Close left %d metric families registered", len(mfs))
	}
}

// TestNoLeaks: New, Sync and Close on the same pins leave no file
// descriptors or goroutines behind.
func TestNoLeaks(t *testing.T) {
	testutil.RequirePrivileged(t)
	cfg := goldenConfig(t)
	t.Cleanup(func() { _ = Cleanup(cfg) })
	cycle := func() {
		m, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		mustSync(t, m, goldenInitial().Services...)
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		if err := m.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
	}
	cycle() // warm up: feature probes and caches keep their descriptors
	fds, gs := openFDs(t), runtime.NumGoroutine()
	for i := 0; i < 3; i++ {
		cycle()
	}
	if n := openFDs(t); n > fds {
		t.Errorf("open file descriptors grew from %d to %d", fds, n)
	}
	if n := runtime.NumGoroutine(); n > gs {
		t.Errorf("goroutines grew from %d to %d", gs, n)
	}
}

func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}
