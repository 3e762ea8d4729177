package dataplane

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/weirnet/weir/dataplane/internal/testclient"
)

// TestMaglevAcrossNodes: an external IP routed to node1, then to node2
// (as an upstream ECMP router would move it): each client flow reaches the
// same backend through either node, although the nodes' ids differ.
func TestMaglevAcrossNodes(t *testing.T) {
	n := newNodes(t)
	var bes []Backend
	for _, pod := range []struct {
		ns     int
		prefix string
	}{{1, "10.1.0."}, {2, "10.2.0."}} {
		ns := n.pod1
		if pod.ns == 2 {
			ns = n.pod2
		}
		for i := 3; i <= 4; i++ {
			ns.Run(t, "ip", "addr", "add", fmt.Sprintf("%s%d/32", pod.prefix, i), "dev", "lo")
		}
		serveTCP(t, ns, "0.0.0.0:8081", "") // greets with the backend address reached
		for i := 2; i <= 4; i++ {
			bes = append(bes, Backend{Addr: netip.MustParseAddr(fmt.Sprintf("%s%d", pod.prefix, i)), Port: 8081})
		}
	}
	ext := Service{Namespace: "default", Name: "ext", PortName: "p", Protocol: TCP, Port: 80,
		ClusterIPs: addrs("10.96.0.30"), ExternalIPs: addrs("203.0.113.10"), Backends: bes}
	m1 := newTestManager(t, Config{CgroupPath: n.cgroup, Netns: n.node1.Name, Interfaces: []string{n.underlay1},
		NodeIPs: addrs("192.168.50.1")})
	m2 := newTestManager(t, Config{CgroupPath: n.cgroup, Netns: n.node2.Name, Interfaces: []string{n.uplink2},
		NodeIPs: addrs("192.168.50.2")})
	filler := nodePortService(TCP) // gives node2 other ids than node1
	filler.ClusterIPs = addrs("10.96.0.31")
	mustSync(t, m1, ext)
	mustSync(t, m2, filler, ext)
	c := startClient(t, n.ext, "")

	var via [2][]string
	for k, gw := range []string{"192.168.50.1", "192.168.50.2"} {
		n.ext.Run(t, "ip", "route", "replace", "203.0.113.10/32", "via", gw)
		for p := 0; p < 24; p++ {
			res := c.do(t, testclient.Request{Op: "tcp", Addr: "203.0.113.10:80", N: 1, Linger0: true,
				Bind: fmt.Sprintf("192.168.50.100:%d", 42000+p)})
			if res.Errnos[0] != "" {
				t.Fatalf("via %s, source port %d: %s", gw, 42000+p, res.Errnos[0])
			}
			via[k] = append(via[k], res.Backends[0])
		}
	}
	seen := map[string]bool{}
	for p := range via[0] {
		seen[via[0][p]] = true
		if via[0][p] != via[1][p] {
			t.Errorf("flow from port %d: %s via node1, %s via node2", 42000+p, via[0][p], via[1][p])
		}
	}
	if len(seen) < 3 {
		t.Errorf("24 flows reached only %v: want them spread over the 6 backends", seen)
	}
}
