package localcluster

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestPlanMembers: three members get their own underlay IPs and data
// dirs; the first bootstraps, the others join every other member's peer
// address with the first's cluster secret; bad counts are refused.
func TestPlanMembers(t *testing.T) {
	cfg := Config{DataDir: t.TempDir(), Bin: "/bin", Nodes: 3, Control: 3}
	if err := cfg.defaults(); err != nil {
		t.Fatal(err)
	}
	s := cfg.plan("/sys/fs/cgroup")
	if got := strings.Join(memberIPs(s), ","); got != "192.168.77.254,192.168.77.253,192.168.77.252" {
		t.Fatalf("member IPs %s", got)
	}
	if got := strings.Join(memberNodeAddrs(s), ","); got != "192.168.77.254:9443,192.168.77.253:9443,192.168.77.252:9443" {
		t.Fatalf("node-stream addresses %s", got)
	}
	if s.Members[0].Dir != cfg.controlDir() || s.Members[2].Dir != filepath.Join(cfg.DataDir, "control-3") {
		t.Fatalf("member dirs %+v", s.Members)
	}
	first, err := memberArgs(&cfg, s, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(first, "--bootstrap") || slices.Contains(first, "--join") {
		t.Errorf("first member: %v", first)
	}
	third, err := memberArgs(&cfg, s, 2)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.Index(third, "--join")
	if i < 0 || third[i+1] != "192.168.77.254:2380,192.168.77.253:2380" || slices.Contains(third, "--bootstrap") ||
		!slices.Contains(third, filepath.Join(cfg.controlDir(), "cluster-secret")) {
		t.Errorf("third member: %v", third)
	}
	for _, n := range []int{-1, 6} {
		bad := Config{DataDir: t.TempDir(), Bin: "/bin", Control: n}
		if err := bad.defaults(); err == nil || !strings.Contains(err.Error(), "--control") {
			t.Errorf("--control %d: %v", n, err)
		}
	}
}
