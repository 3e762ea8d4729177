package dataplane

import (
	"strings"
	"testing"

	"github.com/weirnet/weir/tests/testutil"
)

// TestConfigRefusals: bad configurations are refused before anything is
// loaded or attached; above all the cgroup2 root, which would load-balance
// every process of the host.
func TestConfigRefusals(t *testing.T) {
	testutil.RequirePrivileged(t)
	root, err := testutil.Cgroup2Root()
	if err != nil {
		t.Fatal(err)
	}
	// The root is checked with checkCgroup alone: should the check ever
	// break, a test through New would attach to the root cgroup.
	for _, p := range []string{root, root + "/", root + "/."} {
		if _, err := checkCgroup(p); err == nil || !strings.Contains(err.Error(), "refusing the cgroup2 root") {
			t.Errorf("checkCgroup(%q): %v, want the cgroup2 root refused", p, err)
		}
	}
	cg := testutil.NewCgroup(t, "cfg")
	if _, err := checkCgroup(cg); err != nil {
		t.Errorf("checkCgroup(%s): %v", cg, err)
	}
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"not a cgroup", Config{Instance: "x", CgroupPath: t.TempDir()}, "not on a cgroup v2 filesystem"},
		{"no cgroup", Config{Instance: "x"}, "no cgroup given"},
		{"bad instance", Config{Instance: "../x", CgroupPath: cg}, "instance"},
		{"maglev not prime", Config{Instance: "x", CgroupPath: cg, MaglevTableSize: 1000}, "use a prime"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := New(tc.cfg)
			if err == nil {
				m.Close()
				_ = Cleanup(tc.cfg)
				t.Fatalf("New accepted it")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to mention %q", err, tc.want)
			}
		})
	}
}
