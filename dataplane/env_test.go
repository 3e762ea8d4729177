package dataplane

import (
	"fmt"
	"log/slog"
	"net/netip"
	"testing"

	"github.com/weirnet/weir/tests/testutil"
)

// env is a client namespace joined by one veth pair to each of several
// backend namespaces, plus the cgroup the socket hooks attach to:
//
//	client 10.200.<i>.1/24, fd00:200:<i>::1/64  <->  backend i 10.200.<i>.2, fd00:200:<i>::2
type env struct {
	cgroup   string
	client   *testutil.Netns
	backends []*testutil.Netns
}

func newEnv(t *testing.T, n int) *env {
	t.Helper()
	testutil.RequirePrivileged(t)
	e := &env{cgroup: testutil.NewCgroup(t, "dp"), client: testutil.NewNetns(t, "c")}
	for i := 1; i <= n; i++ {
		b := testutil.NewNetns(t, "b")
		vethPair(t, e.client, b, fmt.Sprintf("10.200.%d.1/24", i), fmt.Sprintf("10.200.%d.2/24", i),
			fmt.Sprintf("fd00:200:%d::1/64", i), fmt.Sprintf("fd00:200:%d::2/64", i))
		e.backends = append(e.backends, b)
	}
	return e
}

// vethPair links a and b with addresses (IPv4 and IPv6 pairs, optional).
func vethPair(t *testing.T, a, b *testutil.Netns, addrs ...string) (string, string) {
	t.Helper()
	na, nb := testutil.UniqueName("wv"), testutil.UniqueName("wv")
	a.Run(t, "ip", "link", "add", na, "type", "veth", "peer", "name", nb, "netns", b.Name)
	for i := 0; i+1 < len(addrs); i += 2 {
		a.Run(t, "ip", "addr", "add", addrs[i], "dev", na, "nodad")
		b.Run(t, "ip", "addr", "add", addrs[i+1], "dev", nb, "nodad")
	}
	a.Run(t, "ip", "link", "set", na, "up")
	b.Run(t, "ip", "link", "set", nb, "up")
	return na, nb
}

// backendAddr is backend i's address (1-based) in the given family.
func backendAddr(i int, v6 bool) netip.Addr {
	if v6 {
		return netip.MustParseAddr(fmt.Sprintf("fd00:200:%d::2", i))
	}
	return netip.MustParseAddr(fmt.Sprintf("10.200.%d.2", i))
}

// serveBackends starts a TCP and a UDP greeter "be<i>" on port in every backend.
func (e *env) serveBackends(t *testing.T, port uint16) {
	t.Helper()
	for i, b := range e.backends {
		name := fmt.Sprintf("be%d", i+1)
		serveTCP(t, b, fmt.Sprintf("[::]:%d", port), name)
		serveUDP(t, b, fmt.Sprintf("0.0.0.0:%d", port), name)
		serveUDP(t, b, fmt.Sprintf("[::]:%d", port), name)
	}
}

func newTestManager(t *testing.T, cfg Config) *Manager {
	t.Helper()
	if cfg.Instance == "" {
		cfg.Instance = testutil.UniqueName("weirtest-")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(t.Output(), nil))
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		m.Close()
		if err := Cleanup(cfg); err != nil {
			t.Errorf("Cleanup: %v", err)
		}
	})
	return m
}
