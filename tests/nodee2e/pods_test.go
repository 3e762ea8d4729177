package nodee2e

import (
	"fmt"
	"os/exec"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/weirnet/weir/tests/testutil"
)

var (
	gvrPods        = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	gvrDeployments = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	gvrReplicaSets = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "replicasets"}
)

const (
	podsApp = "web-e2e"
	podsSvc = "10.96.0.60"
)

// TestDeploymentPodsRealRuntime: a Deployment of 2 replicas created
// through the API is placed by the scheduler, run by the agents through a
// real containerd with weir-cni, reported Running/Ready with pod IPs,
// listed by the EndpointSlice controller, and reached through its
// ClusterIP Service from both nodes; deleted, the pods stop and leave
// nothing behind.
func TestDeploymentPodsRealRuntime(t *testing.T) {
	start := time.Now()
	c, nodes, sock, uids := twoPodNodes(t)
	t.Logf("cluster, containerd and image ready in %v", time.Since(start).Round(time.Millisecond))

	c.createTyped(t, gvrServices, podsService())
	created := time.Now()
	c.createTyped(t, gvrDeployments, podsDeployment(2))
	var pods []corev1.Pod
	waitFor(t, "2 pods Running and Ready with IPs on both nodes", 90*time.Second, func() bool {
		pods = c.appPods(t, uids)
		return readyOnDistinctNodes(pods, 2)
	})
	t.Logf("Deployment created -> 2 pods Ready: %v", time.Since(created).Round(time.Millisecond))
	ips, hostIPs := map[string]bool{}, map[string]string{nodes[0].name: nodes[0].ip, nodes[1].name: nodes[1].ip}
	for _, p := range pods {
		ips[p.Status.PodIP] = true
		cs := p.Status.ContainerStatuses
		if p.Status.PodIP != p.Status.PodIPs[0].IP || p.Status.HostIP != hostIPs[p.Spec.NodeName] || len(cs) != 1 || !cs[0].Ready || cs[0].State.Running == nil {
			t.Errorf("pod %s on %s status: %+v", p.Name, p.Spec.NodeName, p.Status)
		}
	}
	waitFor(t, "EndpointSlice lists both ready pod IPs", 30*time.Second, func() bool { return c.sliceReady(t, ips) })

	for _, n := range nodes {
		seen := map[string]bool{}
		var last string
		deadline := time.Now().Add(30 * time.Second)
		for len(seen) < 2 && time.Now().Before(deadline) {
			out, err := httpFromNode(n, "http://"+podsSvc+"/")
			if err == nil {
				seen[out] = true
			} else {
				last = fmt.Sprintf("%q: %v", out, err)
			}
		}
		if len(seen) < 2 {
			for _, p := range pods {
				out, err := httpFromNode(n, "http://"+p.Status.PodIP+":8080/")
				t.Logf("from %s directly to pod %s (%s on %s): %q %v", n.name, p.Name, p.Status.PodIP, p.Spec.NodeName, out, err)
			}
			t.Fatalf("from %s the Service answered %v; last error %s", n.name, seen, last)
		}
		for _, p := range pods {
			if !seen[p.Name] {
				t.Errorf("from %s the Service answered %v, want the pod names %s and %s", n.name, seen, pods[0].Name, pods[1].Name)
			}
		}
	}

	checkPodDNS(t, nodes, sock, pods)
	c.checkAdoption(t, nodes[0], sock, uids)
	c.checkStatusAfterReconnect(t, nodes[1], sock, uids)

	// Deleted from the API: stopped gracefully, containers and netns gone.
	stop := time.Now()
	c.deleteApp(t)
	waitFor(t, "pods stopped and removed on both nodes", 40*time.Second, func() bool {
		for _, n := range nodes {
			if k, err := containerCount(sock, "weir-"+n.name); err != nil || k != 0 {
				return false
			}
		}
		return !uids.anyNetns()
	})
	if d := time.Since(stop); d > 4*time.Second {
		t.Errorf("the pods took %v to stop, want < 4s (they exit on SIGTERM; the grace period is 5s)", d)
	}
	t.Logf("deleted -> containers and netns gone: %v; total %v", time.Since(stop).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

// checkAdoption: a stopped agent (SIGTERM) leaves its pods running; the
// restarted agent adopts them (same task PIDs, no restart) and the
// Service keeps answering.
func (c *cluster) checkAdoption(t *testing.T, n *node, sock string, uids *uidSet) {
	t.Helper()
	before := taskPIDs(t, sock, "weir-"+n.name)
	if len(before) != 1 {
		t.Fatalf("%s runs %d containers, want 1", n.name, len(before))
	}
	version := c.podOn(t, n, uids).ResourceVersion
	n.agent.kill(syscall.SIGTERM) // Agent.Close detaches from the pods
	if st := n.agent.cmd.ProcessState; st == nil || !st.Exited() || st.ExitCode() != 0 {
		t.Fatalf("agent %s did not exit cleanly on SIGTERM: %v", n.name, st)
	}
	c.startPodAgent(t, n, sock)
	// The new agent's runtime reports the adopted pod (a status write).
	var p corev1.Pod
	waitFor(t, "a status report from the restarted agent", 30*time.Second, func() bool {
		p = c.podOn(t, n, uids)
		return p.ResourceVersion != version
	})
	if cs := p.Status.ContainerStatuses; !readyOnDistinctNodes([]corev1.Pod{p}, 1) || len(cs) != 1 || cs[0].RestartCount != 0 {
		t.Fatalf("the adopted pod's status: %+v", p.Status)
	}
	if after := taskPIDs(t, sock, "weir-"+n.name); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("after the agent restart %s's tasks are %v, want the adopted %v", n.name, after, before)
	}
	seen := map[string]bool{}
	for i := 0; i < 40 && len(seen) < 2; i++ {
		if out, err := httpFromNode(n, "http://"+podsSvc+"/"); err == nil {
			seen[out] = true
		}
	}
	if len(seen) != 2 {
		t.Fatalf("after the agent restart the Service answered %v, want both pods", seen)
	}
}

// checkStatusAfterReconnect: a container killed while the control member
// is down restarts; the status reported meanwhile (restartCount 1) reaches
// the API once the member is back.
func (c *cluster) checkStatusAfterReconnect(t *testing.T, n *node, sock string, uids *uidSet) {
	t.Helper()
	c.stopMember()
	pids := taskPIDs(t, sock, "weir-"+n.name)
	for _, pid := range pids {
		if err := syscall.Kill(int(pid), syscall.SIGKILL); err != nil {
			t.Fatalf("kill the container on %s: %v", n.name, err)
		}
	}
	waitFor(t, "the container restarted on "+n.name, 20*time.Second, func() bool {
		now := taskPIDs(t, sock, "weir-"+n.name)
		return len(now) == 1 && fmt.Sprint(now) != fmt.Sprint(pids)
	})
	c.startMember(t, false)
	c.waitReady(t)
	// Both agents back on the stream before the test goes on: the
	// deletion below must reach them at once, not after their backoff.
	c.waitAgentsConnected(t, 2)
	waitFor(t, "restartCount 1 and Ready in the API", 30*time.Second, func() bool {
		p := c.podOn(t, n, uids)
		cs := p.Status.ContainerStatuses
		return readyOnDistinctNodes([]corev1.Pod{p}, 1) && len(cs) == 1 && cs[0].RestartCount == 1
	})
}

// podOn is the test's pod bound to node n (zero if none).
func (c *cluster) podOn(t *testing.T, n *node, uids *uidSet) corev1.Pod {
	for _, p := range c.appPods(t, uids) {
		if p.Spec.NodeName == n.name {
			return p
		}
	}
	return corev1.Pod{}
}

// twoPodNodes is a cluster with two nodes whose agents run pods through
// one private containerd, the test image imported, both nodes Ready.
// Besides containerd, runc, busybox and nsenter the test needs bins.
func twoPodNodes(t *testing.T, bins ...string) (c *cluster, nodes []*node, sock string, uids *uidSet) {
	t.Helper()
	testutil.RequirePrivileged(t)
	for _, b := range append([]string{"containerd", "runc", "busybox", "nsenter"}, bins...) {
		testutil.RequireBinary(t, b, exec.LookPath)
	}
	c = newCluster(t)
	sock = testutil.StartContainerd(t)
	nodes = []*node{c.newNode(t, 1), c.newNode(t, 2)}
	importTestImage(t, sock, nodes[0].name, nodes[1].name)
	uids = &uidSet{m: map[string]bool{}}
	for _, n := range nodes {
		c.startPodAgent(t, n, sock)
	}
	t.Cleanup(func() { cleanUpPods(t, nodes, sock, uids) }) // runs before the cgroups and containerd go
	c.waitNodesReady(t, nodes)
	return c, nodes, sock, uids
}
