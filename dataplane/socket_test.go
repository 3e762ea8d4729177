package dataplane

import (
	"context"
	"fmt"
	"net/netip"
	"testing"

	"github.com/weirnet/weir/dataplane/internal/testclient"
)

var vip = netip.MustParseAddr("10.96.0.10")

// clusterIPService is a TCP or UDP service on vip:80 over the first n
// backends of the env on port 8080.
func clusterIPService(name string, proto Protocol, n int, v6 bool) Service {
	s := Service{Namespace: "default", Name: name, PortName: "p", Protocol: proto, Port: 80}
	if v6 {
		s.ClusterIPs = []netip.Addr{netip.MustParseAddr("fd00:96::10")}
	} else {
		s.ClusterIPs = []netip.Addr{vip}
	}
	for i := 1; i <= n; i++ {
		s.Backends = append(s.Backends, Backend{Addr: backendAddr(i, v6), Port: 8080})
	}
	return s
}

func mustSync(t *testing.T, m *Manager, svcs ...Service) SyncStats {
	t.Helper()
	st, err := m.Sync(context.Background(), Desired{Services: svcs})
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	return st
}

func TestSocketTCPClusterIP(t *testing.T) {
	e := newEnv(t, 3)
	e.serveBackends(t, 8080)
	m := newTestManager(t, Config{CgroupPath: e.cgroup})
	mustSync(t, m, clusterIPService("web", TCP, 3, false))
	c := startClient(t, e.client, e.cgroup)

	res := c.do(t, testclient.Request{Op: "tcp", Addr: "10.96.0.10:80", N: 60, Linger0: true})
	seen := map[string]int{}
	for i, b := range res.Backends {
		if res.Errnos[i] != "" {
			t.Fatalf("connection %d: %s", i, res.Errnos[i])
		}
		if res.Peers[i] != "10.96.0.10:80" {
			t.Errorf("connection %d: getpeername = %s, want the VIP 10.96.0.10:80", i, res.Peers[i])
		}
		seen[b]++
	}
	for i := 1; i <= 3; i++ {
		if seen[fmt.Sprintf("be%d", i)] == 0 {
			t.Errorf("backend be%d got none of 60 connections: %v", i, seen)
		}
	}
}

func TestSocketUDPClusterIP(t *testing.T) {
	e := newEnv(t, 3)
	e.serveBackends(t, 8080)
	m := newTestManager(t, Config{CgroupPath: e.cgroup})
	mustSync(t, m, clusterIPService("dns", UDP, 3, false))
	c := startClient(t, e.client, e.cgroup)

	for _, connected := range []bool{false, true} {
		res := c.do(t, testclient.Request{Op: "udp", Addr: "10.96.0.10:80", N: 45, Connected: connected})
		seen := map[string]int{}
		for i, b := range res.Backends {
			if res.Errnos[i] != "" {
				t.Fatalf("connected=%v datagram %d: %s", connected, i, res.Errnos[i])
			}
			if res.Peers[i] != "10.96.0.10:80" {
				t.Errorf("connected=%v datagram %d: reply/peer address %s, want the VIP 10.96.0.10:80", connected, i, res.Peers[i])
			}
			seen[b]++
		}
		if len(seen) != 3 {
			t.Errorf("connected=%v: 45 sockets reached %v, want all 3 backends", connected, seen)
		}
	}
}

func TestSocketIPv6(t *testing.T) {
	e := newEnv(t, 2)
	e.serveBackends(t, 8080)
	m := newTestManager(t, Config{CgroupPath: e.cgroup})
	mustSync(t, m, clusterIPService("web6", TCP, 2, true), clusterIPService("dns6", UDP, 2, true))
	c := startClient(t, e.client, e.cgroup)

	tcp := c.do(t, testclient.Request{Op: "tcp", Addr: "[fd00:96::10]:80", N: 20, Linger0: true})
	udp := c.do(t, testclient.Request{Op: "udp", Addr: "[fd00:96::10]:80", N: 20})
	for name, res := range map[string]testclient.Result{"tcp": tcp, "udp": udp} {
		for i := range res.Backends {
			if res.Errnos[i] != "" || res.Backends[i] == "" {
				t.Fatalf("%s attempt %d: %q", name, i, res.Errnos[i])
			}
			if res.Peers[i] != "[fd00:96::10]:80" {
				t.Errorf("%s attempt %d: peer %s, want [fd00:96::10]:80", name, i, res.Peers[i])
			}
		}
	}
}
