package node

import (
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/weirnet/weir/dataplane"
	"github.com/weirnet/weir/tests/testutil"
)

// newRoutedNode is node idx on its own subnet 10.10.idx.0/24 behind the
// router netns: nodes share no L2, only routes between the subnets.
func newRoutedNode(t *testing.T, router *testutil.Netns, cp *controlPlane, idx int) *testNode {
	t.Helper()
	n := &testNode{name: testutil.UniqueName(fmt.Sprintf("weirnode%d-", idx)), ip: fmt.Sprintf("10.10.%d.2", idx), dir: t.TempDir()}
	n.ns = testutil.NewNetns(t, fmt.Sprintf("n%d", idx))
	rl := fmt.Sprintf("r%d", idx)
	router.Run(t, "ip", "link", "add", rl, "type", "veth", "peer", "name", "eth0", "netns", n.ns.Name)
	router.Run(t, "ip", "addr", "add", fmt.Sprintf("10.10.%d.1/24", idx), "dev", rl)
	router.Run(t, "ip", "link", "set", rl, "up")
	n.ns.Run(t, "ip", "addr", "add", n.ip+"/24", "dev", "eth0")
	n.ns.Run(t, "ip", "link", "set", "eth0", "up")
	n.ns.Run(t, "ip", "route", "add", "10.10.0.0/16", "via", fmt.Sprintf("10.10.%d.1", idx))
	n.cgroup = testutil.NewCgroup(t, fmt.Sprintf("n%d", idx))
	t.Cleanup(func() {
		if err := dataplane.Cleanup(dataplane.Config{Instance: n.name, CgroupPath: n.cgroup}); err != nil {
			t.Errorf("dataplane cleanup %s: %v", n.name, err)
		}
	})
	n.startVXLAN(t, cp)
	return n
}

func (n *testNode) startVXLAN(t *testing.T, cp *controlPlane) {
	t.Helper()
	n.startMode(t, cp, RouteModeVXLAN)
}

// TestVXLANRoutedUnderlay: two nodes on different subnets behind a router
// that knows nothing of pod CIDRs; the agents in VXLAN mode build the
// overlay (device, FDB, onlink routes) and pods reach each other; a
// restarted agent adopts the device; Reconcile(nil) removes what it owns.
func TestVXLANRoutedUnderlay(t *testing.T) {
	testutil.RequirePrivileged(t)
	testutil.RequireBinary(t, "busybox", exec.LookPath)
	testutil.RequireBinary(t, "bridge", exec.LookPath)
	bin := buildCNI(t)
	cp := startControlPlane(t)
	router := testutil.NewNetns(t, "rt")
	router.Run(t, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	nodes := []*testNode{newRoutedNode(t, router, cp, 1), newRoutedNode(t, router, cp, 2)}

	for i, n := range nodes {
		other := nodes[1-i]
		waitFor(t, n.name+" vxlan route and FDB", 20*time.Second, func() bool {
			rt, _ := n.ns.Exec("ip", "route", "show", "proto", "0x57")
			fdb, _ := n.ns.Exec("bridge", "fdb", "show", "dev", VXLANDevice)
			return other.agent.PodCIDR() != "" &&
				strings.Contains(rt, other.agent.PodCIDR()+" via "+other.ip+" dev "+VXLANDevice) && strings.Contains(rt, "onlink") &&
				strings.Contains(fdb, "00:00:00:00:00:00 dst "+other.ip)
		})
	}
	if out := nodes[0].ns.Run(t, "ip", "-d", "link", "show", VXLANDevice); !strings.Contains(out, "vxlan id 1 ") || !strings.Contains(out, "dstport 8472") || !strings.Contains(out, "mtu 1450") {
		t.Errorf("vxlan device: %s", out)
	}
	pods := make([]*testutil.Netns, 2)
	ips := make([]string, 2)
	for i, n := range nodes {
		pods[i], ips[i] = n.addPod(t, bin, "v"+n.name)
		serve(t, pods[i], ":8080", "pod-"+n.name[:9])
	}
	check := func(when string) {
		t.Helper()
		for i := range nodes {
			got, err := fetch(pods[i], "", ips[1-i], "8080")
			if err != nil || got != "pod-"+nodes[1-i].name[:9] {
				t.Fatalf("%s: pod on %s -> %s:8080 = %q, %v", when, nodes[i].name, ips[1-i], got, err)
			}
		}
	}
	check("overlay")

	// A restarted agent adopts the device (same ifindex) and the overlay
	// keeps working.
	before := nodes[0].ns.Run(t, "ip", "-o", "link", "show", VXLANDevice)
	nodes[0].stop()
	nodes[0].stop = nil
	check("agent stopped")
	nodes[0].startVXLAN(t, cp)
	waitFor(t, "restarted agent has routes", 20*time.Second, func() bool { return nodes[0].agent.PodCIDR() != "" })
	if after := nodes[0].ns.Run(t, "ip", "-o", "link", "show", VXLANDevice); strings.Fields(after)[0] != strings.Fields(before)[0] {
		t.Errorf("vxlan device recreated on restart: %q -> %q", before, after)
	}
	check("agent restarted")

	// Reconcile(nil) removes the FDB entries and routes it owns.
	nodes[0].stop()
	nodes[0].stop = nil
	v, err := NewVXLANRoutes(nodes[0].ns.Name, "eth0", netip.MustParseAddr(nodes[0].ip), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if err := v.Reconcile(nil); err != nil {
		t.Fatal(err)
	}
	rt := nodes[0].ns.Run(t, "ip", "route", "show", "proto", "0x57")
	fdb := nodes[0].ns.Run(t, "bridge", "fdb", "show", "dev", VXLANDevice)
	if strings.TrimSpace(rt) != "" || strings.Contains(fdb, "00:00:00:00:00:00") {
		t.Errorf("after Reconcile(nil): routes %q, fdb %q", rt, fdb)
	}
}
