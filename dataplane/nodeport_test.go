package dataplane

import (
	"net/netip"
	"testing"

	"github.com/weirnet/weir/dataplane/internal/testclient"
	"github.com/weirnet/weir/tests/testutil"
)

// nodes is two node namespaces and an outside client on one underlay
// bridge (192.168.50.0/24), each node with one backend pod:
//
//	ext 192.168.50.100 --br-- node1 192.168.50.1 -- pod1 10.1.0.2
//	                     \--- node2 192.168.50.2 -- pod2 10.2.0.2
type nodes struct {
	cgroup             string
	ext, node1, node2  *testutil.Netns
	pod1, pod2         *testutil.Netns
	underlay1, uplink2 string // node1's and node2's underlay interface
	podVeth1           string // node1's end of pod1's veth
}

func newNodes(t *testing.T) *nodes {
	t.Helper()
	n := &nodes{cgroup: testutil.NewCgroup(t, "np")}
	lan := testutil.NewNetns(t, "l")
	lan.Run(t, "ip", "link", "add", "br0", "type", "bridge")
	lan.Run(t, "ip", "link", "set", "br0", "up")
	n.ext = testutil.NewNetns(t, "x")
	n.node1, n.node2 = testutil.NewNetns(t, "n"), testutil.NewNetns(t, "n")
	n.pod1, n.pod2 = testutil.NewNetns(t, "p"), testutil.NewNetns(t, "p")
	_ = bridgePort(t, lan, n.ext, "192.168.50.100/24")
	n.underlay1 = bridgePort(t, lan, n.node1, "192.168.50.1/24")
	n.uplink2 = bridgePort(t, lan, n.node2, "192.168.50.2/24")
	n.podVeth1, _ = vethPair(t, n.node1, n.pod1, "10.1.0.1/24", "10.1.0.2/24")
	vethPair(t, n.node2, n.pod2, "10.2.0.1/24", "10.2.0.2/24")
	n.pod1.Run(t, "ip", "route", "add", "default", "via", "10.1.0.1")
	n.pod2.Run(t, "ip", "route", "add", "default", "via", "10.2.0.1")
	n.node1.Run(t, "ip", "route", "add", "10.2.0.0/24", "via", "192.168.50.2")
	n.node2.Run(t, "ip", "route", "add", "10.1.0.0/24", "via", "192.168.50.1")
	for _, node := range []*testutil.Netns{n.node1, n.node2} {
		node.Run(t, "sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0")
	}
	serveTCP(t, n.pod1, "0.0.0.0:8080", "local")
	serveUDP(t, n.pod1, "0.0.0.0:8080", "local")
	serveTCP(t, n.pod2, "0.0.0.0:8080", "remote")
	serveUDP(t, n.pod2, "0.0.0.0:8080", "remote")
	return n
}

// bridgePort links ns to lan's bridge and returns ns's interface name.
func bridgePort(t *testing.T, lan, ns *testutil.Netns, addr string) string {
	t.Helper()
	inLan, inNs := testutil.UniqueName("wb"), testutil.UniqueName("wu")
	lan.Run(t, "ip", "link", "add", inLan, "type", "veth", "peer", "name", inNs, "netns", ns.Name)
	lan.Run(t, "ip", "link", "set", inLan, "master", "br0", "up")
	ns.Run(t, "ip", "addr", "add", addr, "dev", inNs)
	ns.Run(t, "ip", "link", "set", inNs, "up")
	return inNs
}

func nodePortService(proto Protocol) Service {
	return Service{Namespace: "default", Name: "np", PortName: "p", Protocol: proto, Port: 80,
		ClusterIPs: []netip.Addr{netip.MustParseAddr("10.96.0.20")}, NodePort: 30080,
		Backends: []Backend{
			{Addr: netip.MustParseAddr("10.1.0.2"), Port: 8080},
			{Addr: netip.MustParseAddr("10.2.0.2"), Port: 8080},
		}}
}

// TestNodePortFromOutside: a client outside the cluster reaches a local
// and a remote backend through node1's NodePort (DNAT; SNAT for the remote
// one), and the replies come from the NodePort address.
func TestNodePortFromOutside(t *testing.T) {
	n := newNodes(t)
	m := newTestManager(t, Config{CgroupPath: n.cgroup, Netns: n.node1.Name, Interfaces: []string{n.underlay1},
		NodeIPs: []netip.Addr{netip.MustParseAddr("192.168.50.1")}})
	mustSync(t, m, nodePortService(TCP), nodePortService(UDP))
	c := startClient(t, n.ext, "") // outside the hooked cgroup: only tc sees it

	tcp := countBackends(t, c.do(t, testclient.Request{Op: "tcp", Addr: "192.168.50.1:30080", N: 40, Linger0: true}))
	if tcp["local"] == 0 || tcp["remote"] == 0 {
		t.Errorf("40 TCP connections through the NodePort reached %v, want both the local and the remote backend", tcp)
	}
	udp := c.do(t, testclient.Request{Op: "udp", Addr: "192.168.50.1:30080", N: 40})
	seen := map[string]int{}
	for i, b := range udp.Backends {
		if udp.Errnos[i] != "" {
			t.Fatalf("UDP %d: %s", i, udp.Errnos[i])
		}
		if udp.Peers[i] != "192.168.50.1:30080" {
			t.Errorf("UDP reply %d came from %s, want 192.168.50.1:30080", i, udp.Peers[i])
		}
		seen[b]++
	}
	if seen["local"] == 0 || seen["remote"] == 0 {
		t.Errorf("40 UDP sockets reached %v, want both backends", seen)
	}
}

// TestPodOutsideCgroup: a pod whose sockets the cgroup hooks do not see
// reaches a ClusterIP through the per-packet path on its veth (DNAT there,
// reverse NAT when the reply of the remote backend comes in on the
// underlay), and sees the replies from the ClusterIP.
func TestPodOutsideCgroup(t *testing.T) {
	n := newNodes(t)
	m := newTestManager(t, Config{CgroupPath: n.cgroup, Netns: n.node1.Name,
		Interfaces: []string{n.underlay1, n.podVeth1}, NodeIPs: addrs("192.168.50.1")})
	svc := nodePortService(TCP)
	svc.Backends = svc.Backends[1:] // only the backend on node2
	udp := nodePortService(UDP)
	udp.Backends = udp.Backends[1:]
	mustSync(t, m, svc, udp)
	c := startClient(t, n.pod1, "") // pod1's process, not in the hooked cgroup

	tcp := c.do(t, testclient.Request{Op: "tcp", Addr: "10.96.0.20:80", N: 10, Linger0: true})
	for i, b := range tcp.Backends {
		if tcp.Errnos[i] != "" || b != "remote" {
			t.Fatalf("connection %d: %q %q, want the remote backend", i, b, tcp.Errnos[i])
		}
	}
	res := c.do(t, testclient.Request{Op: "udp", Addr: "10.96.0.20:80", N: 5})
	for i, p := range res.Peers {
		if res.Errnos[i] != "" || p != "10.96.0.20:80" {
			t.Errorf("UDP %d: reply from %s (%s), want 10.96.0.20:80", i, p, res.Errnos[i])
		}
	}
}
