package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/weirnet/weir/control/client"
	"github.com/weirnet/weir/localcluster"
	"github.com/weirnet/weir/tests/testutil"
)

// TestE2E runs the suite against one local cluster of 3 nodes and 3
// control members. The subtests run in order and build on each other
// (the rolling update gives the demo pods short eviction tolerations that
// the agent-kill subtest relies on).
func TestE2E(t *testing.T) {
	testutil.RequirePrivileged(t)
	for _, b := range []string{"containerd", "runc", "busybox", "nsenter", "ip", "go"} {
		testutil.RequireBinary(t, b, exec.LookPath)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 9*time.Minute)
	defer cancel()
	e := setup(t, ctx)
	ip, nodePort := e.demoService()

	steps := []struct {
		name string
		run  func(*env, string, int64) error
	}{
		{"status", checkStatus},
		{"pod-to-pod across nodes", checkPodToPod},
		{"ClusterIP from every node and pod", checkClusterIP},
		{"DNS names from pods", checkDNS},
		{"the API from pods at kubernetes.default", checkAPIFromPods},
		{"NodePort from the underlay", checkNodePort},
	}
	for _, s := range steps {
		if !t.Run(s.name, func(t *testing.T) {
			start := time.Now()
			if err := s.run(e, ip, nodePort); err != nil {
				t.Fatal(err)
			}
			e.logf("%s: passed in %v", s.name, time.Since(start).Round(time.Millisecond))
		}) {
			return
		}
	}
	// The disruptive subtests share one continuous client on node 1.
	node1 := e.lc.Nodes()[0].Name
	load, err := e.startLoad(node1, ip)
	if err != nil {
		t.Fatal(err)
	}
	defer load.stop()
	for _, s := range []struct {
		name string
		run  func(*env, *loadClient, string) error
	}{
		{"rolling update with zero failed requests", checkRollingUpdate},
		{"agent killed: traffic moves, pods rescheduled", checkAgentKilled},
		{"control leader killed: API and dataplane keep working", checkLeaderKilled},
	} {
		if !t.Run(s.name, func(t *testing.T) {
			start := time.Now()
			if err := s.run(e, load, ip); err != nil {
				t.Fatal(err)
			}
			e.logf("%s: passed in %v", s.name, time.Since(start).Round(time.Millisecond))
		}) {
			return
		}
	}
	load.stop()
	t.Run("down leaves nothing behind", func(t *testing.T) { checkDown(t, e) })
}

// setup brings the cluster up; Down runs at cleanup even on failure.
func setup(t *testing.T, ctx context.Context) *env {
	var out bytes.Buffer
	cfg := localcluster.Config{DataDir: filepath.Join(t.TempDir(), "data"), Bin: testutil.WeirBin(t), Nodes: 3, Control: 3,
		Prefix: testutil.UniqueName("weire2e"), Listen: testutil.FreeLocalPort(t), Out: &out, NoClientConfig: true,
		// A killed agent's Node turns Unknown after 12 s instead of 40 s.
		ServerArgs: []string{"--node-monitor-grace-period", "12s"}}
	e := &env{t: t, ctx: ctx, bin: cfg.Bin, cfg: cfg}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("weir up output:\n%s", out.String())
			logs, _ := filepath.Glob(filepath.Join(cfg.DataDir, "logs", "*.log"))
			for _, l := range logs {
				data, _ := os.ReadFile(l)
				t.Logf("%s (tail):\n%s", filepath.Base(l), tail(string(data), 15))
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
	start := time.Now()
	if err := localcluster.Up(ctx, cfg); err != nil {
		t.Fatalf("Up: %v", err)
	}
	e.started = time.Now()
	t.Logf("weir up (3 nodes, 3 control members): %v", time.Since(start).Round(time.Millisecond))
	lc, err := localcluster.Inspect(cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	e.lc = lc
	api, err := client.New(client.Config{Server: "https://" + cfg.Listen, Token: lc.Token(),
		CAFile: filepath.Join(cfg.DataDir, "control", "ca.crt"), Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(api.Close)
	e.api = api
	// Three replicas on three nodes, so that traffic crosses nodes.
	if err := e.updateDeployment(func(d *appsv1.Deployment) { d.Spec.Replicas = new(int32(3)) }); err != nil {
		t.Fatal(err)
	}
	if err := e.waitFor("3 demo pods Ready", 90*time.Second, func() bool { return e.rolledOut(3) }); err != nil {
		t.Fatal(err)
	}
	e.logf("demo scaled to 3 replicas")
	return e
}
