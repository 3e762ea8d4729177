package nodee2e

import (
	"os/exec"
	"testing"
	"time"

	"github.com/weirnet/weir/tests/testutil"
)

// Node lifecycle settings of the acceptance cluster: heartbeats renew
// the node's Lease every grace/4 (nodestream.LeaseTimes: 2.5 s), so a
// grace of 10 s leaves a live node on a loaded machine several renewals
// of slack; pods leave an unreachable node 2 s later.
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
	c := newCluster(t, "--node-monitor-grace-period", accGrace, "--pod-eviction-timeout", accEviction)
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
