package dataplane

import (
	"bytes"
	"strings"
	"testing"

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
