package kubectl

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weirnet/weir/localcluster"
	"github.com/weirnet/weir/tests/testutil"
)

// ns is the namespace the suite works in (besides weir up's demo in
// default).
const ns = "kc"

// env is the cluster and the kubectl that talks to it.
type env struct {
	*kc
	cfg   localcluster.Config
	nodes []string
}

// TestKubectl runs the command families in order on one cluster; later
// groups use what earlier ones created (namespace kc, Deployment web).
// The "streams" group needs exec/attach/port-forward/logs over the
// kubelet protocols (branch stream): run it with -run TestKubectl/streams
// after that is merged.
func TestKubectl(t *testing.T) {
	testutil.RequirePrivileged(t)
	for _, b := range []string{"containerd", "runc", "busybox", "nsenter", "ip", "script"} {
		testutil.RequireBinary(t, b, exec.LookPath)
	}
	e := setup(t)
	for _, g := range []struct {
		name string
		run  func(*testing.T, *env)
	}{
		{"discovery", testDiscovery},
		{"create", testCreate},
		{"apply", testApply},
		{"get", testGet},
		{"describe", testDescribe},
		{"patch", testPatch},
		{"edit label annotate scale", testEdit},
		{"rollout and set", testRollout},
		{"daemonset and cronjob", testWorkloads},
		{"statefulset", testStatefulSet},
		{"auth and events", testAuth},
		{"delete and wait", testDelete},
		{"disruption budgets and drain", testDisruption},
		{"nodes", testNodes},
		{"streams", testStreams},
	} {
		start := time.Now()
		t.Run(g.name, func(t *testing.T) { g.run(t, e) })
		t.Logf("%s: %v", g.name, time.Since(start).Round(time.Millisecond))
	}
}

// setup brings the cluster up; Down runs at cleanup even on failure.
func setup(t *testing.T) *env {
	kubectl := testutil.RequireBinary(t, "kubectl", exec.LookPath)
	var out bytes.Buffer
	cfg := localcluster.Config{DataDir: filepath.Join(t.TempDir(), "data"), Bin: testutil.WeirBin(t), Nodes: 2, Control: 1,
		Prefix: testutil.UniqueName("weirkc"), Listen: testutil.FreeLocalPort(t), Out: &out, NoClientConfig: true}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("weir up output:\n%s", out.String())
			logs, _ := filepath.Glob(filepath.Join(cfg.DataDir, "logs", "*.log"))
			for _, l := range logs {
				data, _ := os.ReadFile(l)
				t.Logf("%s (tail):\n%s", filepath.Base(l), tail(string(data), 20))
			}
		}
		if _, err := os.Stat(cfg.DataDir); err == nil {
			var dout bytes.Buffer
			c := cfg
			c.Out = &dout
			if err := localcluster.Down(c, false); err != nil {
				t.Errorf("Down at cleanup: %v\n%s", err, dout.String())
			}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	if err := localcluster.Up(ctx, cfg); err != nil {
		t.Fatalf("Up: %v", err)
	}
	t.Logf("weir up (2 nodes, 1 control member): %v", time.Since(start).Round(time.Millisecond))
	kubeconfig := filepath.Join(cfg.DataDir, "kubeconfig")
	if !strings.Contains(out.String(), "export KUBECONFIG="+kubeconfig) {
		t.Errorf("weir up does not print `export KUBECONFIG=%s`:\n%s", kubeconfig, out.String())
	}
	lc, err := localcluster.Inspect(cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{kc: &kc{bin: kubectl, kubeconfig: kubeconfig, home: t.TempDir()}, cfg: cfg}
	for _, n := range lc.Nodes() {
		e.nodes = append(e.nodes, n.Name)
	}
	return e
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// write writes a file into kubectl's scratch dir and returns its path.
func (e *env) write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(e.home, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// eventually runs kubectl until check accepts its stdout or d passes.
func (e *env) eventually(t *testing.T, d time.Duration, what string, check func(string) bool, args ...string) string {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		out := e.ok(t, args...)
		if check(out) {
			return out
		}
		if time.Now().After(deadline) {
			t.Errorf("%s: not within %v; last output of kubectl %s:\n%s", what, d, quoteArgs(args), out)
			return out
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// contains fails t for each want that out lacks.
func contains(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("%s: output lacks %q:\n%s", what, w, out)
		}
	}
}

// rows are the output's lines after the header, split into columns.
func rows(out string) [][]string {
	var r [][]string
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for _, l := range lines[min(1, len(lines)):] {
		if f := strings.Fields(l); len(f) > 0 {
			r = append(r, f)
		}
	}
	return r
}
