package dataplane

import (
	"regexp"
	"strconv"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/weirnet/weir/tests/testutil"
)

var processedRE = regexp.MustCompile(`processed (\d+) insns`)

// TestVerifierBudget loads every program without pins and checks the
// verifier's work stays far below the 1M-instruction limit of kernel 5.10
// (a program near it would be one feature away from failing to load there).
func TestVerifierBudget(t *testing.T) {
	coll, s := loadWithStats(t, "verifier")
	for name, p := range coll.Programs {
		m := processedRE.FindStringSubmatch(p.VerifierLog)
		if m == nil {
			t.Fatalf("%s: no instruction count in the verifier log: %q", name, p.VerifierLog)
		}
		n, _ := strconv.Atoi(m[1])
		t.Logf("%-18s %6d instructions processed (%d in the object)", name, n, len(s.Programs[name].Instructions))
		if n > 200_000 {
			t.Errorf("%s: the verifier processed %d instructions; keep it well below 5.10's limit of 1,000,000", name, n)
		}
	}
}

// loadWithStats loads every program of the dataplane without pins and with
// small maps, asking the verifier for its statistics; the collection is
// closed when t ends. It returns the spec it loaded too.
func loadWithStats(t *testing.T, instance string) (*ebpf.Collection, *ebpf.CollectionSpec) {
	t.Helper()
	testutil.RequirePrivileged(t)
	cfg, err := Config{Instance: instance}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	s, err := spec(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range s.Maps {
		m.Pinning = ebpf.PinNone
		if m.MaxEntries > 4096 && m.Type != ebpf.PerCPUArray {
			m.MaxEntries = 4096
		}
	}
	coll, err := ebpf.NewCollectionWithOptions(s, ebpf.CollectionOptions{
		Programs: ebpf.ProgramOptions{LogLevel: ebpf.LogLevelStats},
	})
	if err != nil {
		t.Fatalf("load: %+v", err)
	}
	t.Cleanup(coll.Close)
	return coll, s
}
