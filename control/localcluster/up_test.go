package localcluster

import (
	"bytes"
	"context"
	"fmt"
	"net"
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
	cfg := Config{DataDir: filepath.Join(t.TempDir(), "data"), Bin: binaries(t), Nodes: 2,
		Prefix: testutil.UniqueName("weirlc"), Listen: freePort(t), Out: &out, NoClientConfig: true}
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
	if out, _ := exec.Command("ip", "netns", "list").Output(); strings.Contains(string(out), cfg.Prefix) {
		t.Errorf("netns left: %s", out)
	}
	if _, err := os.Stat(cfg.DataDir); !os.IsNotExist(err) {
		t.Errorf("data dir %s left: %v", cfg.DataDir, err)
	}
	var left []string
	for _, root := range []string{"/sys/fs/cgroup", "/sys/fs/bpf"} {
		_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return nil
			}
			if strings.Contains(d.Name(), cfg.Prefix) {
				left = append(left, p)
				return filepath.SkipDir
			}
			if strings.Count(p, "/") > 6 {
				return filepath.SkipDir
			}
			return nil
		})
	}
	if len(left) > 0 {
		t.Errorf("cgroups or pins left: %v", left)
	}
	if mounts, _ := os.ReadFile("/proc/self/mounts"); strings.Contains(string(mounts), cfg.DataDir) {
		t.Errorf("mounts under %s left", cfg.DataDir)
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		if data, _ := os.ReadFile(p); bytes.Contains(data, []byte(cfg.DataDir)) || bytes.Contains(data, []byte(cfg.Prefix)) {
			t.Errorf("a process of the run is left: %s %q", p, data)
		}
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

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// binaries is $WEIR_BIN (make test) or a temp dir with weir and weir-cni
// built from this tree.
func binaries(t *testing.T) string {
	if dir := os.Getenv("WEIR_BIN"); dir != "" {
		return dir
	}
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", dir+"/", "github.com/weirnet/weir/cmd/weir", "github.com/weirnet/weir/cmd/weir-cni")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build weir and weir-cni: %v\n%s", err, out)
	}
	return dir
}
