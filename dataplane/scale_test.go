package dataplane

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/weirnet/weir/dataplane/internal/testclient"
	"github.com/weirnet/weir/tests/testutil"
)

// scaleService is service i of the scale tests: ClusterIP 10.96.0.0+i+1:80
// over per backends 10.128.0.0+i*per+j:8080.
func scaleService(i, per int) Service {
	s := Service{Namespace: "scale", Name: fmt.Sprintf("s%06d", i), PortName: "p", Protocol: TCP, Port: 80,
		ClusterIPs: []netip.Addr{addrPlus(netip.MustParseAddr("10.96.0.0"), i+1)}}
	for j := 0; j < per; j++ {
		s.Backends = append(s.Backends, Backend{Addr: addrPlus(netip.MustParseAddr("10.128.0.0"), i*per+j), Port: 8080})
	}
	return s
}

func addrPlus(a netip.Addr, n int) netip.Addr {
	b := a.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]) + uint32(n)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func scaleDesired(n, per int) Desired {
	d := Desired{Services: make([]Service, n)}
	for i := range d.Services {
		d.Services[i] = scaleService(i, per)
	}
	return d
}

// TestScale syncs 10,000 services x 10 backends, then 100,000 (skipped
// with -short), checks sampled services are served, and logs the sync
// times, a one-service change and the maps' memory. It asserts no times:
// the benchmark reports them.
func TestScale(t *testing.T) {
	testutil.RequirePrivileged(t)
	cg := testutil.NewCgroup(t, "sc")
	cli, farm := testutil.NewNetns(t, "c"), testutil.NewNetns(t, "f")
	vethPair(t, cli, farm, "10.201.0.1/30", "10.201.0.2/30")
	cli.Run(t, "ip", "route", "add", "10.128.0.0/9", "via", "10.201.0.2")
	farm.Run(t, "ip", "route", "add", "local", "10.128.0.0/9", "dev", "lo") // any address: one listener
	serveTCP(t, farm, "0.0.0.0:8080", "")
	m := newTestManager(t, Config{CgroupPath: cg, MaxServices: 100_016, MaxBackends: 1_000_016, MaxSlots: 1_000_016})
	c := startClient(t, cli, cg)

	sizes := []int{10_000, 100_000}
	if testing.Short() {
		sizes = sizes[:1]
	}
	for _, n := range sizes {
		d := scaleDesired(n, 10)
		st := mustSyncDesired(t, m, d)
		mem, _ := m.Memory()
		t.Logf("sync %d services x 10 backends: %v (%d added, %d map writes); maps %d MiB", n, st.Duration, st.Added, st.Writes, mem>>20)
		checkServed(t, c, d, 30)

		st = mustSyncDesired(t, m, d)
		t.Logf("repeat sync of %d unchanged services: %v, %d writes", n, st.Duration, st.Writes)
		changed := scaleService(n/2, 10)
		changed.Backends = changed.Backends[:9]
		start := time.Now()
		ust, err := m.Upsert(t.Context(), changed)
		if err != nil || ust.Updated != 1 {
			t.Fatalf("Upsert of one service: %+v, %v", ust, err)
		}
		t.Logf("one service changed at %d services: %v (%d writes)", n, time.Since(start), ust.Writes)
	}
}

func mustSyncDesired(t *testing.T, m *Manager, d Desired) SyncStats {
	t.Helper()
	st, err := m.Sync(t.Context(), d)
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	return st
}

// checkServed connects to samples services (the first, the last and random
// ones) and checks the backend reached is one of the service's.
func checkServed(t *testing.T, c *child, d Desired, samples int) {
	t.Helper()
	idx := []int{0, len(d.Services) - 1}
	for len(idx) < samples {
		idx = append(idx, rand.IntN(len(d.Services)))
	}
	for _, i := range idx {
		s := d.Services[i]
		res := c.do(t, testclient.Request{Op: "tcp", Addr: fmt.Sprintf("%s:80", s.ClusterIPs[0]), N: 2, Linger0: true})
		for k, got := range res.Backends {
			if res.Errnos[k] != "" {
				t.Fatalf("service %s: %s", s.ClusterIPs[0], res.Errnos[k])
			}
			if !slices.ContainsFunc(s.Backends, func(b Backend) bool { return netip.AddrPortFrom(b.Addr, b.Port).String() == got }) {
				t.Fatalf("service %s reached %s, not one of its backends", s.ClusterIPs[0], got)
			}
		}
	}
}
