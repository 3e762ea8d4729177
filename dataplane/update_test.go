package dataplane

import (
	"bytes"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirnet/weir/dataplane/internal/testclient"
	"github.com/weirnet/weir/tests/testutil"
)

// TestUpsertDelete: Upsert and Delete touch only the services they name,
// refuse to take another service's frontend, and leave the maps as a full
// Sync of the same result would.
func TestUpsertDelete(t *testing.T) {
	testutil.RequirePrivileged(t)
	m := newTestManager(t, goldenConfig(t))
	mustSync(t, m, goldenInitial().Services...)

	upd := goldenUpdate()
	var web, api Service
	for _, s := range upd.Services {
		switch s.Name {
		case "web":
			web = s
		case "api":
			api = s
		}
	}
	if st, err := m.Upsert(t.Context(), web, api); err != nil || st.Added != 1 || st.Updated != 1 || st.Removed != 0 {
		t.Fatalf("Upsert: %+v, %v; want web updated and api added", st, err)
	}
	dns := goldenInitial().Services[1]
	if st, err := m.Delete(t.Context(), dns); err != nil || st.Removed != 2 {
		t.Fatalf("Delete dns: %+v, %v; want both families removed", st, err)
	}
	checkGolden(t, m, "dump_update")

	thief := api
	thief.Name = "thief" // same ClusterIP:port as api
	st, err := m.Upsert(t.Context(), thief)
	if err == nil || !strings.Contains(err.Error(), "already belongs to shop/api") || st.Failed != 1 {
		t.Errorf("Upsert of a service taking api's frontend: %+v, %v; want it refused", st, err)
	}
	var buf bytes.Buffer
	must(t, m.Dump(&buf))
	if strings.Contains(buf.String(), "thief") {
		t.Errorf("refused service was written:\n%s", buf.String())
	}
}

// TestResyncRepairsDrift: Upsert, Delete and Sync are counted; an entry
// removed behind the Manager's back is invisible to Sync (it diffs against
// what it wrote) but Resync reads the maps back, rewrites it and counts
// the repair; a Resync with nothing to repair counts none.
func TestResyncRepairsDrift(t *testing.T) {
	e := newEnv(t, 3)
	e.serveBackends(t, 8080)
	reg := prometheus.NewRegistry()
	m := newTestManager(t, Config{CgroupPath: e.cgroup, Registerer: reg})
	other := clusterIPService("other", TCP, 1, false)
	other.ClusterIPs = addrs("10.96.0.11")
	mustSync(t, m, clusterIPService("web", TCP, 3, false), other)
	web := clusterIPService("web", TCP, 2, false)
	web.PortName = "q" // a second port of web: one Service
	web.Port = 81
	if _, err := m.Upsert(t.Context(), clusterIPService("web", TCP, 2, false), web); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Delete(t.Context(), other); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]float64{"weir_dataplane_full_syncs_total": 1, "weir_dataplane_upserts_total": 1,
		"weir_dataplane_deletes_total": 1, "weir_dataplane_resync_repairs_total": 0} {
		if got := metricValue(t, reg, name, "", ""); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	c := startClient(t, e.client, e.cgroup)
	served := func() bool {
		res := c.do(t, testclient.Request{Op: "tcp", Addr: "10.96.0.10:80", N: 1, Linger0: true})
		return res.Errnos[0] == ""
	}
	if !served() {
		t.Fatal("web not served after Upsert")
	}
	master := svcKey(feKey{addr: vip, port: 80, proto: TCP}, 0)
	must(t, m.ms.services.Delete(&master)) // drift: as if someone else deleted it
	if served() {
		t.Fatal("web still served without its master entry")
	}
	desired := Desired{Services: []Service{clusterIPService("web", TCP, 2, false), web}}
	if st := mustSyncDesired(t, m, desired); st.Unchanged != 2 || served() {
		t.Fatalf("Sync saw the drift (%+v) or repaired it; only Resync reads the maps back", st)
	}
	st, err := m.Resync(t.Context(), desired)
	if err != nil || st.Updated != 1 || !served() {
		t.Fatalf("Resync: %+v, %v; want web's group updated and served again", st, err)
	}
	if st, err := m.Resync(t.Context(), desired); err != nil || st.Added+st.Updated+st.Removed != 0 {
		t.Fatalf("second Resync: %+v, %v; want nothing to repair", st, err)
	}
	if got := metricValue(t, reg, "weir_dataplane_resync_repairs_total", "", ""); got != 1 {
		t.Errorf("resync repairs = %v, want 1", got)
	}
	if got := metricValue(t, reg, "weir_dataplane_full_syncs_total", "", ""); got != 4 {
		t.Errorf("full syncs = %v, want 4 (Sync, Sync, Resync, Resync)", got)
	}
}
