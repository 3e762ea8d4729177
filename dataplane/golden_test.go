package dataplane

import (
	"bytes"
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weirnet/weir/tests/testutil"
)

func addrs(s ...string) []netip.Addr {
	var out []netip.Addr
	for _, a := range s {
		out = append(out, netip.MustParseAddr(a))
	}
	return out
}

func be(addr string, port uint16, terminating bool) Backend {
	return Backend{Addr: netip.MustParseAddr(addr), Port: port, Terminating: terminating}
}

func goldenInitial() Desired {
	return Desired{Services: []Service{
		{Namespace: "shop", Name: "web", PortName: "http", Protocol: TCP, Port: 80,
			ClusterIPs: addrs("10.96.0.10"), ExternalIPs: addrs("203.0.113.10"), NodePort: 30080,
			Backends: []Backend{be("10.244.2.7", 8080, false), be("10.244.1.5", 8080, false), be("10.244.3.9", 8080, true)}},
		{Namespace: "kube-system", Name: "dns", PortName: "dns", Protocol: UDP, Port: 53,
			ClusterIPs: addrs("10.96.0.53", "fd00:96::53"),
			Backends:   []Backend{be("10.244.1.6", 53, false), be("fd00:244:1::6", 53, false)}},
		{Namespace: "shop", Name: "sticky", PortName: "https", Protocol: TCP, Port: 443,
			ClusterIPs: addrs("10.96.0.30"), AffinityTimeout: 3 * time.Hour,
			Backends: []Backend{be("10.244.1.7", 8443, false)}},
		{Namespace: "shop", Name: "empty", PortName: "http", Protocol: TCP, Port: 80, ClusterIPs: addrs("10.96.0.40")},
	}}
}

func goldenUpdate() Desired {
	d := goldenInitial()
	d.Services[0].Backends = []Backend{be("10.244.1.5", 8080, false), be("10.244.4.1", 8080, false)}
	d.Services[0].ExternalIPs = nil
	d.Services = append(d.Services[:1], d.Services[2:]...) // dns removed
	d.Services = append(d.Services, Service{Namespace: "shop", Name: "api", PortName: "grpc", Protocol: TCP, Port: 9000,
		ClusterIPs: addrs("10.96.0.90"), Backends: []Backend{be("10.244.2.8", 9000, false)}})
	return d
}

func goldenConfig(t *testing.T) Config {
	return Config{Instance: testutil.UniqueName("weirtest-"), CgroupPath: testutil.NewCgroup(t, "g"),
		NodeIPs: addrs("192.168.50.1", "fd00:50::1"), Logger: slog.New(slog.NewTextHandler(t.Output(), nil))}
}

func checkGolden(t *testing.T, m *Manager, name string) {
	t.Helper()
	var buf bytes.Buffer
	if err := m.Dump(&buf); err != nil {
		t.Fatalf("Dump: %v", err)
	}
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("dump differs from %s (rerun with -update if intended):\ngot:\n%s\nwant:\n%s", path, buf.Bytes(), want)
	}
}

func TestGoldenDump(t *testing.T) {
	testutil.RequirePrivileged(t)
	m := newTestManager(t, goldenConfig(t))
	st := mustSync(t, m, goldenInitial().Services...)
	if st.Added != 5 || st.Failed != 0 {
		t.Errorf("initial sync: %+v, want 5 groups added (dns is dual-stack)", st)
	}
	checkGolden(t, m, "dump_initial")
	st = mustSync(t, m, goldenUpdate().Services...)
	if st.Added != 1 || st.Removed != 2 || st.Updated != 1 || st.Unchanged != 2 {
		t.Errorf("update sync: %+v, want added 1, removed 2, updated 1, unchanged 2", st)
	}
	checkGolden(t, m, "dump_update")
	if st = mustSync(t, m, goldenUpdate().Services...); st.Writes != 0 {
		t.Errorf("repeating a sync wrote %d entries, want 0", st.Writes)
	}
	mustSync(t, m)
	checkGolden(t, m, "dump_empty")
}

// TestAdoptOrphans: entries a crash left between two writes are shown as
// orphans after adoption and removed by the next Sync.
func TestAdoptOrphans(t *testing.T) {
	testutil.RequirePrivileged(t)
	cfg := goldenConfig(t)
	m := newTestManager(t, cfg)
	mustSync(t, m, goldenInitial().Services...)
	ms := m.ms
	fk := feKey{addr: netip.MustParseAddr("10.99.0.1"), port: 80, proto: TCP}
	must(t, ms.backends.Put(uint32(999), lbBackend{Addr: addr16(netip.MustParseAddr("10.244.9.9")), Port: htons(80), SvcId: 77}))
	must(t, ms.services.Put(svcKey(fk, 1), lbSvcVal{BackendId: 999}))
	must(t, ms.revnat.Put(uint32(500), lbRevNat{Addr: addr16(fk.addr), Port: htons(80)}))
	must(t, ms.names.Put(uint32(88), nameValue("")))
	m.Close()

	m2, err := New(cfg)
	if err != nil {
		t.Fatalf("New on existing pins: %v", err)
	}
	defer m2.Close()
	checkGolden(t, m2, "dump_orphans")

	// An Upsert may take over the half-written frontend; other orphans
	// wait for the next full Sync.
	taker := Service{Namespace: "shop", Name: "taker", PortName: "p", Protocol: TCP, Port: 80,
		ClusterIPs: addrs("10.99.0.1"), Backends: []Backend{be("10.244.5.5", 80, false)}}
	if _, err := m2.Upsert(t.Context(), taker); err != nil {
		t.Fatalf("Upsert over an orphan frontend: %v", err)
	}
	var buf bytes.Buffer
	must(t, m2.Dump(&buf))
	if strings.Contains(buf.String(), "orphan frontend") || !strings.Contains(buf.String(), "orphan backend 999") ||
		!strings.Contains(buf.String(), "frontend 10.99.0.1:80/TCP clusterip") {
		t.Errorf("after Upsert over the orphan frontend:\n%s", buf.String())
	}

	st, err := m2.Sync(t.Context(), goldenInitial())
	if err != nil || st.Added != 0 || st.Updated != 0 || st.Removed != 1 {
		t.Fatalf("sync after adoption: %+v, %v; want the orphans and taker removed", st, err)
	}
	checkGolden(t, m2, "dump_initial")
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestMapFull: a service that does not fit is refused with ErrMapFull and
// left as it was; the others are synced.
func TestMapFull(t *testing.T) {
	testutil.RequirePrivileged(t)
	cfg := goldenConfig(t)
	cfg.MaxServices, cfg.MaxBackends, cfg.MaxSlots = 4, 4, 8
	m := newTestManager(t, cfg)
	a := Service{Namespace: "ns", Name: "a", PortName: "p", Protocol: TCP, Port: 80, ClusterIPs: addrs("10.96.1.1"),
		Backends: []Backend{be("10.244.0.1", 80, false), be("10.244.0.2", 80, false)}}
	b := a
	b.Name, b.ClusterIPs = "b", addrs("10.96.1.2")
	mustSync(t, m, a, b)
	var before bytes.Buffer
	must(t, m.Dump(&before))

	bigger := a
	bigger.Backends = append(append([]Backend{}, a.Backends...), be("10.244.0.3", 80, false))
	c := b
	c.Name, c.ClusterIPs, c.Backends = "c", addrs("10.96.1.3"), nil
	st, err := m.Sync(t.Context(), Desired{Services: []Service{bigger, b, c}})
	if !errors.Is(err, ErrMapFull) || st.Failed != 1 || st.Added != 1 {
		t.Fatalf("sync over capacity: %+v, %v; want ErrMapFull for a only, c added", st, err)
	}
	t.Logf("error: %v", err)
	var after bytes.Buffer
	must(t, m.Dump(&after))
	if !bytes.Contains(after.Bytes(), before.Bytes()[:bytes.Index(before.Bytes(), []byte("service ns/b"))]) {
		t.Errorf("service a changed although it did not fit:\nbefore:\n%s\nafter:\n%s", before.String(), after.String())
	}
}
