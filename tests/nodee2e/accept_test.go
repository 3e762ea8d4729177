package nodee2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weirnet/weir/control/client"
	"github.com/weirnet/weir/tests/testutil"
)

// Node lifecycle settings of the acceptance cluster: heartbeats reach the
// Node at most every 5 s (nodestream's HeartbeatWrite), so a grace of 10 s
// leaves a live node on a loaded machine 5 s of slack; pods leave an
// unreachable node 2 s later.
const (
	accGrace    = "10s"
	accEviction = "2s"
)

// acc is the acceptance cluster: a member with short node lifecycle
// settings, two pod-running agents and a private containerd.
type acc struct {
	*cluster
	top   *testing.T // the parent test: owns processes that outlive a subtest
	sock  string
	nodes []*node // nodes with a running agent
	spare *node   // a third node, image imported, agent not started: the node that joins
	uids  *uidSet
}

// TestPodsAcceptance runs issue 5's acceptance scenarios on one cluster of
// real processes (member, two `weir agent --run-pods`, containerd): a
// Deployment scaled 3 -> 5 -> 0 -> 3 with its EndpointSlice, a killed
// container, a rolling update under load, Jobs, unschedulable pods, and
// (last, as it takes a node away) a killed agent.
func TestPodsAcceptance(t *testing.T) {
	testutil.RequirePrivileged(t)
	for _, b := range []string{"containerd", "runc", "busybox", "nsenter"} {
		testutil.RequireBinary(t, b, exec.LookPath)
	}
	start := time.Now()
	a := newAcc(t)
	t.Logf("cluster, containerd and image ready in %v", time.Since(start).Round(time.Millisecond))
	scenarios := []struct {
		name string
		run  func(*testing.T, *acc)
	}{
		{"DeploymentScale", testDeploymentScale},
		{"ContainerKill", testContainerKill},
		{"RollingUpdate", testRollingUpdate},
		{"Jobs", testJobs},
		{"Unschedulable", testUnschedulable},
		{"AgentKill", testAgentKill},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			began := time.Now()
			defer func() { t.Logf("%s took %v", s.name, time.Since(began).Round(time.Millisecond)) }()
			s.run(t, a)
		})
	}
	t.Logf("total %v", time.Since(start).Round(time.Millisecond))
}

func newAcc(t *testing.T) *acc {
	t.Helper()
	c := &cluster{dir: t.TempDir()}
	c.weir, c.cni = binaries(t)
	c.ul = testutil.NewNetns(t, "ul")
	c.ul.Run(t, "ip", "link", "add", "br0", "type", "bridge")
	c.ul.Run(t, "ip", "addr", "add", memberIP+"/24", "dev", "br0")
	c.ul.Run(t, "ip", "link", "set", "br0", "up")
	args := []string{"server", "--name", "m1", "--data-dir", filepath.Join(c.dir, "member"),
		"--listen", apiAddr, "--peer", "127.0.0.1:2380", "--node-listen", streamAddr, "--cluster-cidr", "10.244.0.0/16",
		"--bootstrap", "--node-monitor-grace-period", accGrace, "--pod-eviction-timeout", accEviction}
	c.member = startProc(t, "member", c.ul.Name, filepath.Join(c.dir, "member.log"), c.weir, args...)
	waitFor(t, "member token and ca.crt", 30*time.Second, func() bool {
		if c.member.exited() {
			t.Fatalf("weir server exited:\n%s", tail(c.member.log, 30))
		}
		_, err1 := os.Stat(filepath.Join(c.dir, "member", "token"))
		_, err2 := os.Stat(filepath.Join(c.dir, "member", "ca.crt"))
		return err1 == nil && err2 == nil
	})
	tok, err := os.ReadFile(filepath.Join(c.dir, "member", "token"))
	if err != nil {
		t.Fatal(err)
	}
	c.api, err = client.New(client.Config{Server: proxyInto(t, c.ul, apiAddr), Token: strings.TrimSpace(string(tok)), Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.api.Close)
	c.waitReady(t)
	a := &acc{cluster: c, top: t, sock: testutil.StartContainerd(t), uids: &uidSet{m: map[string]bool{}}}
	a.nodes = []*node{c.newNode(t, 1), c.newNode(t, 2)}
	a.spare = c.newNode(t, 3)
	importTestImage(t, a.sock, a.nodes[0].name, a.nodes[1].name, a.spare.name)
	for _, n := range a.nodes {
		c.startPodAgent(t, n, a.sock)
	}
	t.Cleanup(func() { cleanUpPods(t, a.nodes, a.sock, a.uids) }) // before the cgroups and containerd go
	c.waitNodesReady(t, a.nodes)
	return a
}
