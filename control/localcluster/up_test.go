package localcluster

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weirnet/weir/tests/testutil"
)

// TestUpDown: Up builds a 2-node cluster (unique names, temp data dir, a
// free loopback port, so it cannot collide with a real `weir up`), its
// self-check passes, a second Up says it is up, and Down leaves no netns,
// cgroup, BPF pin, process or data of the run.
func TestUpDown(t *testing.T) {
	testutil.RequirePrivileged(t)
	for _, b := range []string{"containerd", "runc", "busybox", "nsenter", "ip"} {
		testutil.RequireBinary(t, b, exec.LookPath)
	}
	start := time.Now()
	var out bytes.Buffer
	cfg := Config{DataDir: filepath.Join(t.TempDir(), "data"), Bin: testutil.WeirBin(t), Nodes: 2,
		Prefix: testutil.UniqueName("weirlc"), Listen: testutil.FreeLocalPort(t), Out: &out, NoClientConfig: true}
	down := func() error { return Down(cfg, false) }
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		t.Logf("output:\n%s", out.String())
		for _, n := range []string{"control-1", cfg.Prefix + "-node-1"} {
			data, _ := os.ReadFile(filepath.Join(cfg.DataDir, "logs", n+".log"))
			t.Logf("%s log tail:\n%s", n, tail(string(data), 25))
		}
		_ = down()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := Up(ctx, cfg); err != nil {
		t.Fatalf("Up: %v", err)
	}
	if !strings.Contains(out.String(), "self-check passed") || strings.Count(out.String(), "(DNS name): answered by demo-") < 2 {
		t.Fatalf("Up did not report a passing self-check by ClusterIP and DNS:\n%s", out.String())
	}
	t.Logf("weir up with 2 nodes: %v\n%s", time.Since(start).Round(time.Millisecond), out.String())
	pids := recordedPIDs(t, cfg.DataDir)
	if len(pids) != 5 { // member, proxy, containerd, 2 agents
		t.Errorf("recorded PIDs %v, want 5", pids)
	}
	out.Reset()
	if err := Up(ctx, cfg); err != nil || !strings.Contains(out.String(), "already up") {
		t.Fatalf("second Up: %v\n%s", err, out.String())
	}
	stop := time.Now()
	if err := down(); err != nil {
		t.Fatalf("Down: %v\n%s", err, out.String())
	}
	t.Logf("weir down: %v", time.Since(stop).Round(time.Millisecond))
	checkNothingLeft(t, cfg, pids)
}

func checkNothingLeft(t *testing.T, cfg Config, pids map[string]int) {
	t.Helper()
	for name, pid := range pids {
		if alive(pid) {
			t.Errorf("%s (PID %d) still runs", name, pid)
		}
	}
	if left := Leftovers(cfg, false); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

func recordedPIDs(t *testing.T, dataDir string) map[string]int {
	files, _ := filepath.Glob(filepath.Join(dataDir, "pids", "*.pid"))
	out := map[string]int{}
	for _, f := range files {
		var pid int
		data, _ := os.ReadFile(f)
		if _, err := fmt.Sscan(string(data), &pid); err == nil {
			out[filepath.Base(f)] = pid
		}
	}
	return out
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
