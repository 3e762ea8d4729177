package nodee2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/weirnet/weir/tests/testutil"
)

// TestTwoNodesRealBinaries: see the package doc.
func TestTwoNodesRealBinaries(t *testing.T) {
	testutil.RequirePrivileged(t)
	testutil.RequireBinary(t, "busybox", exec.LookPath)
	testutil.RequireBinary(t, "nsenter", exec.LookPath)
	start := time.Now()
	c := newCluster(t)
	nodes := []*node{c.addNode(t, 1), c.addNode(t, 2)}
	cidrs := c.waitNodesReady(t, nodes)
	c.checkRoutes(t, nodes, cidrs)
	t.Logf("cluster up with two Ready nodes (%v) in %v", cidrs, time.Since(start).Round(time.Millisecond))

	pods := make([]*testutil.Netns, 2)
	ips := make([]string, 2)
	for i, n := range nodes {
		waitFor(t, n.name+" conflist", 10*time.Second, func() bool {
			_, err := os.Stat(filepath.Join(n.dir, "net.d", "10-weir.conflist"))
			return err == nil
		})
		pods[i], ips[i] = c.addPod(t, n, fmt.Sprintf("c%d%s", i, n.name))
		serve(t, pods[i], ":8080", podName(i))
	}
	checkPodToPod(t, pods, ips)

	c.create(t, gvrServices, service("web", "10.96.0.50"))
	c.create(t, gvrSlices, slice("web-1", "web", ips...))
	checkService(t, "after the write", nodes, pods, 20*time.Second)

	// A new endpoint is served on every node: write -> first answer.
	var lat []time.Duration
	for round := 0; round < 5; round++ {
		lat = append(lat, c.newEndpointLatency(t, fmt.Sprintf("fresh-%d", round), fmt.Sprintf("10.96.1.%d", 10+round), nodes, pods, ips, round%2))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	t.Logf("EndpointSlice write -> served on both nodes: min %v median %v max %v (goal 100ms)", lat[0], lat[2], lat[4])
	if lat[4] > 2*time.Second {
		t.Errorf("a new endpoint took %v to be served on every node (bound 2s, goal 100ms)", lat[4])
	}
	// The changes reached node 2's dataplane and DNS as deltas: one full
	// Sync (the first apply), one full DNS Update, an Upsert per change.
	m := agentMetrics(t, nodes[1])
	if m["weir_dataplane_full_syncs_total"] != 1 || m["weir_dns_full_updates_total"] != 1 || m["weir_dataplane_upserts_total"] < 10 {
		t.Errorf("node 2's agent: full syncs %v, full DNS updates %v, upserts %v; want 1, 1 and one per change (>= 10)",
			m["weir_dataplane_full_syncs_total"], m["weir_dns_full_updates_total"], m["weir_dataplane_upserts_total"])
	}
	t.Logf("node 2's agent: %v upserts, %v deletes, %v full syncs, %v DNS names changed", m["weir_dataplane_upserts_total"],
		m["weir_dataplane_deletes_total"], m["weir_dataplane_full_syncs_total"], m["weir_dns_names_changed_total"])

	// kill -9 of an agent: pinned maps and routes keep traffic flowing;
	// the restarted agent follows the stream again.
	nodes[0].agent.kill(syscall.SIGKILL)
	checkPodToPod(t, pods, ips)
	checkService(t, "with node 1's agent killed", nodes, pods, time.Second)
	c.startAgent(t, nodes[0])
	c.waitNodesReady(t, nodes)
	c.checkRoutes(t, nodes, cidrs)
	checkService(t, "after node 1's agent restarted", nodes, pods, time.Second)
	d := c.newEndpointLatency(t, "after-agent", "10.96.2.10", nodes, pods, ips, 1)
	t.Logf("after the agent restart: a new endpoint served on both nodes in %v", d)

	// Control member stopped: the dataplane keeps serving; restarted, the
	// agents reconnect (same pod CIDRs) and follow new writes.
	c.stopMember()
	checkPodToPod(t, pods, ips)
	checkService(t, "with the control member stopped", nodes, pods, time.Second)
	restart := time.Now()
	c.startMember(t, false)
	c.waitReady(t)
	if got := c.waitNodesReady(t, nodes); strings.Join(got, ",") != strings.Join(cidrs, ",") {
		t.Errorf("pod CIDRs after the member restart: %v, want %v", got, cidrs)
	}
	d = c.newEndpointLatency(t, "after-member", "10.96.2.11", nodes, pods, ips, 0)
	t.Logf("member restart -> new endpoint served on both nodes: %v (that write alone: %v)", time.Since(restart).Round(time.Millisecond), d)
	checkService(t, "after the member restart", nodes, pods, time.Second)
	t.Logf("total %v", time.Since(start).Round(time.Millisecond))
}

func podName(i int) string { return fmt.Sprintf("pod-%d", i+1) }

func (c *cluster) waitNodesReady(t *testing.T, nodes []*node) []string {
	t.Helper()
	cidrs := make([]string, len(nodes))
	for i, n := range nodes {
		waitFor(t, n.name+" Ready with a pod CIDR", 30*time.Second, func() bool {
			var ok bool
			ok, cidrs[i] = c.nodeReady(n.name)
			return ok
		})
	}
	if cidrs[0] == cidrs[1] {
		t.Fatalf("both nodes got pod CIDR %s", cidrs[0])
	}
	return cidrs
}

// checkRoutes: each node routes the other's pod CIDR via its node IP.
func (c *cluster) checkRoutes(t *testing.T, nodes []*node, cidrs []string) {
	t.Helper()
	for i, n := range nodes {
		want := cidrs[1-i] + " via " + nodes[1-i].ip + " dev eth0"
		waitFor(t, n.name+" route "+want, 20*time.Second, func() bool {
			out, _ := n.ns.Exec("ip", "route", "show", "proto", "0x57")
			return strings.Contains(out, want)
		})
	}
}

func checkPodToPod(t *testing.T, pods []*testutil.Netns, ips []string) {
	t.Helper()
	for i := range pods {
		if got, err := fetch(pods[i], "", ips[1-i], "8080"); err != nil || got != podName(1-i) {
			t.Fatalf("pod %d -> %s:8080 = %q, %v", i+1, ips[1-i], got, err)
		}
	}
}

// checkService: from a pod on each node, web's ClusterIP reaches both
// backends within d.
func checkService(t *testing.T, when string, nodes []*node, pods []*testutil.Netns, d time.Duration) {
	t.Helper()
	for i, n := range nodes {
		seen := map[string]bool{}
		deadline := time.Now().Add(d)
		for tries := 0; len(seen) < 2 && (tries < 40 || time.Now().Before(deadline)); tries++ {
			if got, err := fetch(pods[i], n.cgroup, "10.96.0.50", "80"); err == nil {
				seen[got] = true
			}
		}
		if !seen[podName(0)] || !seen[podName(1)] {
			t.Fatalf("%s: from node %d 10.96.0.50:80 reached %v, want both backends", when, i+1, seen)
		}
	}
}

// newEndpointLatency creates Service name at ip, then (probes running on
// both nodes) its EndpointSlice with backend pod b, and returns the time
// from the slice write to the last node serving it.
func (c *cluster) newEndpointLatency(t *testing.T, name, ip string, nodes []*node, pods []*testutil.Netns, ips []string, b int) time.Duration {
	t.Helper()
	c.create(t, gvrServices, service(name, ip))
	time.Sleep(300 * time.Millisecond) // let the service itself settle
	probes := make([]*probe, len(nodes))
	for i, n := range nodes {
		probes[i] = startProbe(t, pods[i], n.cgroup, ip+":80", podName(b))
	}
	written := time.Now()
	c.create(t, gvrSlices, slice(name, name, ips[b]))
	var last time.Duration
	for i, p := range probes {
		d := p.served(t).Sub(written)
		t.Logf("%s: served on node %d %v after the write", name, i+1, d.Round(time.Microsecond))
		last = max(last, d)
	}
	return last
}
