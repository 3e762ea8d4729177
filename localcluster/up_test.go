package localcluster

import (
	"bytes"
	"context"
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
	cfg := Config{DataDir: filepath.Join(t.TempDir(), "data"), Bin: testutil.WeirBin(t), Nodes: 2,
		Prefix: testutil.UniqueName("weirlc"), Listen: testutil.FreeLocalPort(t), Out: &out, NoClientConfig: true}
	down := func() error { return Down(cfg, false) }
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		t.Logf("output:\n%s", out.String())
		logTails(t, cfg.DataDir)
		procs := recordedProcs(t, cfg)
		if err := down(); err != nil {
			t.Errorf("Down at cleanup: %v", err)
		}
		checkNothingLeft(t, cfg, procs)
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
	checkKubeconfig(t, cfg, out.String())
	pids := recordedProcs(t, cfg)
	if len(pids) != 5 { // member, proxy, containerd, 2 agents
		t.Errorf("recorded processes %v, want 5", pids)
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

// checkNothingLeft: none of procs runs and Leftovers finds nothing.
func checkNothingLeft(t *testing.T, cfg Config, procs map[string]procID) {
	t.Helper()
	for name, p := range procs {
		if p.running() {
			t.Errorf("%s (PID %d) still runs", name, p.PID)
		}
	}
	if left := Leftovers(cfg, false); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

// recordedProcs are the processes recorded in cfg's data dir, by name.
func recordedProcs(t *testing.T, cfg Config) map[string]procID {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(cfg.DataDir, "pids", "*.pid"))
	out := map[string]procID{}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".pid")
		id, legacy, err := recorded(&cfg, name)
		if err != nil || legacy {
			t.Errorf("record of %s: %v (legacy %t)", name, err, legacy)
			continue
		}
		out[name] = id
	}
	return out
}

// logTails logs the end of every log in dataDir.
func logTails(t *testing.T, dataDir string) {
	logs, _ := filepath.Glob(filepath.Join(dataDir, "logs", "*.log"))
	for _, l := range logs {
		t.Logf("%s:\n%s", filepath.Base(l), logTail(l, 25))
	}
}

// checkKubeconfig: Up printed the export line of the kubeconfig it wrote,
// and kubectl reaches the API through the proxy with it, over HTTPS.
func checkKubeconfig(t *testing.T, cfg Config, out string) {
	t.Helper()
	kc := filepath.Join(cfg.DataDir, "kubeconfig")
	if !strings.Contains(out, "export KUBECONFIG="+kc) {
		t.Errorf("Up did not print the export line of %s", kc)
	}
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Log("no kubectl: the kubeconfig is not tried with it")
		return
	}
	for _, args := range [][]string{{"get", "namespaces", "-o", "name"}, {"auth", "can-i", "create", "pods"}} {
		cmd := exec.Command(kubectl, append([]string{"--kubeconfig", kc}, args...)...)
		cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
		b, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(b), "namespace/default") && strings.TrimSpace(string(b)) != "yes" {
			t.Errorf("kubectl %v with weir up's kubeconfig: %v\n%s", args, err, b)
		}
	}
}

// TestFailedUpThenDown: when a member really fails at startup (here a
// flag weir server does not know), Up says how it exited and shows the
// end of its log, which says it too; when the proxy fails (its address is
// taken) Up says so while the member runs on. Either way Down stops every
// process Up started and leaves nothing behind.
func TestFailedUpThenDown(t *testing.T) {
	testutil.RequirePrivileged(t)
	for _, b := range []string{"containerd", "runc", "busybox", "nsenter", "ip"} {
		testutil.RequireBinary(t, b, exec.LookPath)
	}
	bin := testutil.WeirBin(t)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for _, tc := range []struct {
		name       string
		serverArgs []string
		listen     string
		want       []string // in Up's error
		wantLog    string   // in the failed process's log
		running    []string // processes that still run after the failed Up
	}{
		{name: "member fails", serverArgs: []string{"--no-such-flag"},
			want:    []string{"weir server control-1 (PID ", "exited (exit status 1)", "flag provided but not defined: -no-such-flag", "control-1.log"},
			wantLog: "weir up: control-1 (PID "},
		{name: "proxy fails", listen: taken.Addr().String(),
			want:    []string{"api-proxy (PID ", "exited (exit status 1)", "address already in use", "api-proxy.log"},
			wantLog: "weir up: api-proxy (PID ", running: []string{"control-1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			cfg := Config{DataDir: filepath.Join(t.TempDir(), "data"), Bin: bin, Nodes: 1, Prefix: testutil.UniqueName("weirlc"),
				Listen: tc.listen, Out: &out, NoClientConfig: true, ServerArgs: tc.serverArgs}
			if cfg.Listen == "" {
				cfg.Listen = testutil.FreeLocalPort(t)
			}
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("output:\n%s", out.String())
					logTails(t, cfg.DataDir)
					_ = Down(cfg, false)
				}
			})
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			err := Up(ctx, cfg)
			if err == nil {
				t.Fatal("Up succeeded")
			}
			t.Logf("Up: %v", err)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Up's error does not say %q:\n%v", w, err)
				}
			}
			procs := recordedProcs(t, cfg)
			for _, name := range tc.running {
				if !procs[name].running() {
					t.Errorf("%s does not run after the failed Up (recorded %+v)", name, procs[name])
				}
			}
			logs, _ := filepath.Glob(filepath.Join(cfg.DataDir, "logs", "*.log"))
			var all strings.Builder
			for _, l := range logs {
				data, _ := os.ReadFile(l)
				all.Write(data)
			}
			if !strings.Contains(all.String(), tc.wantLog) {
				t.Errorf("no log says %q", tc.wantLog)
			}
			if err := Down(cfg, false); err != nil {
				t.Fatalf("Down after the failed Up: %v", err)
			}
			checkNothingLeft(t, cfg, procs)
		})
	}
}
