package dataplane

import (
	"testing"

	"github.com/weirnet/weir/tests/testutil"
)

// TestMaglevTablesInParallelBatches: a first sync of more services than
// one batch of new Maglev tables (maglevChunk) holds, on more workers than
// one, leaves every group with the table it should have, read back from
// the maps; a second sync that changes every service's backends rewrites
// the tables in place. The first sync's time is logged (the benchmark
// reports it; nothing here gates on it).
func TestMaglevTablesInParallelBatches(t *testing.T) {
	testutil.RequirePrivileged(t)
	ns := testutil.NewNetns(t, "mg")
	ns.Run(t, "ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth1")
	ns.Run(t, "ip", "link", "set", "eth0", "up")
	m := newTestManager(t, Config{CgroupPath: testutil.NewCgroup(t, "mg"), Netns: ns.Name, Interfaces: []string{"eth0"}})
	n := 3*maglevChunk + 17
	st := mustSyncDesired(t, m, scaleDesired(n, 10))
	t.Logf("first sync of %d services x 10 backends with Maglev tables: %v (%d writes)", n, st.Duration, st.Writes)
	checkTables(t, m, n)

	d := scaleDesired(n, 10)
	for i := range d.Services {
		d.Services[i].Backends = d.Services[i].Backends[1:]
	}
	if st = mustSyncDesired(t, m, d); st.Updated != n {
		t.Fatalf("second sync updated %d groups, want %d", st.Updated, n)
	}
	checkTables(t, m, n)
}

// checkTables reads the maps back and compares every group's Maglev table
// with the one the manager computed.
func checkTables(t *testing.T, m *Manager, n int) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	got, err := adopt(m.ms, m.cfg.MaxServices, m.cfg.MaglevTableSize)
	if err != nil {
		t.Fatal(err)
	}
	if got.maglev != n || len(got.orphan.maglev) != 0 {
		t.Fatalf("%d Maglev tables in the map (%d orphans), want %d", got.maglev, len(got.orphan.maglev), n)
	}
	for name, g := range m.st.groups {
		if g.maglevSum == 0 || got.groups[name] == nil || got.groups[name].maglevSum != g.maglevSum {
			t.Fatalf("group %s: Maglev table in the map differs from the computed one", name)
		}
	}
}
