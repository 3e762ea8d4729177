package dataplane

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/weirnet/weir/tests/testutil"
)

// TestPinnedLookup reads a service's backends from the pinned maps, as
// another process would, before and after a change, and finds nothing for
// a frontend that is not there.
func TestPinnedLookup(t *testing.T) {
	testutil.RequirePrivileged(t)
	m := newTestManager(t, Config{CgroupPath: testutil.NewCgroup(t, "lk")})
	mustSyncDesired(t, m, scaleDesired(3, 4))
	l, err := OpenPinnedLookup(m.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	svc := scaleService(1, 4)
	front := netip.AddrPortFrom(svc.ClusterIPs[0], svc.Port)
	want := func(s Service) []netip.AddrPort {
		var out []netip.AddrPort
		for _, b := range s.Backends {
			out = append(out, netip.AddrPortFrom(b.Addr, b.Port))
		}
		return out
	}
	if got, err := l.Backends(front, TCP); err != nil || !slices.Equal(got, want(svc)) {
		t.Fatalf("Backends = %v, %v; want %v", got, err, want(svc))
	}
	svc.Backends = svc.Backends[1:]
	if _, err := m.Upsert(t.Context(), svc); err != nil {
		t.Fatal(err)
	}
	if got, err := l.Backends(front, TCP); err != nil || !slices.Equal(got, want(svc)) {
		t.Fatalf("after Upsert: Backends = %v, %v; want %v", got, err, want(svc))
	}
	if got, err := l.Backends(netip.MustParseAddrPort("10.96.255.1:80"), TCP); err != nil || got != nil {
		t.Fatalf("unknown frontend: %v, %v", got, err)
	}
}
