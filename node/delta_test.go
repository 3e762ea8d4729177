package node

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirnet/weir/dataplane"
	"github.com/weirnet/weir/dns"
	"github.com/weirnet/weir/tests/testutil"
	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

// deltaNode is the kernel side of an agent without the control plane: a
// real dataplane (pinned maps, socket hooks on a cgroup, tc on the node's
// link in a weir netns) and a real DNS server, both programmed by a
// Reconciler from a State that node-stream messages are applied to.
type deltaNode struct {
	cfg     dataplane.Config
	reg     *prometheus.Registry
	dns     *dns.Server
	dp      *dataplane.Manager
	rec     *Reconciler
	st      *State
	dnsAddr string
}

func newDeltaNode(t *testing.T) *deltaNode {
	t.Helper()
	testutil.RequirePrivileged(t)
	ns := testutil.NewNetns(t, "dl")
	ns.Run(t, "ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth1")
	ns.Run(t, "ip", "addr", "add", "192.168.79.1/24", "dev", "eth0")
	ns.Run(t, "ip", "link", "set", "eth0", "up")
	ns.Run(t, "ip", "link", "set", "eth1", "up")
	n := &deltaNode{reg: prometheus.NewRegistry(), st: NewState()}
	n.cfg = dataplane.Config{Instance: testutil.UniqueName("weirdelta-"), CgroupPath: testutil.NewCgroup(t, "dl"), Netns: ns.Name,
		Interfaces: []string{"eth0"}, NodeIPs: []netip.Addr{netip.MustParseAddr("192.168.79.1")},
		Logger: slog.New(slog.DiscardHandler), Registerer: n.reg}
	dp, err := dataplane.New(n.cfg)
	if err != nil {
		t.Fatal(err)
	}
	n.dp = dp
	t.Cleanup(func() {
		dp.Close()
		if err := dataplane.Cleanup(n.cfg); err != nil {
			t.Errorf("dataplane cleanup: %v", err)
		}
	})
	if n.dns, err = dns.NewServer(dns.Config{Registerer: n.reg, Logger: slog.New(slog.DiscardHandler)}); err != nil {
		t.Fatal(err)
	}
	udp, tcp, err := dns.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); n.dns.Serve(context.Background(), udp, tcp) }()
	t.Cleanup(func() { n.dns.Close(); <-done })
	n.dnsAddr = tcp.Addr().String()
	n.rec = &Reconciler{Dataplane: dp, Routes: nopRoutes{}, Listener: n.dns}
	return n
}

// apply applies m to the state and the kernel, as the agent's stream loop
// does, and returns how long programming the kernel took.
func (n *deltaNode) apply(t *testing.T, m *pb.ServerMessage) time.Duration {
	t.Helper()
	c, err := n.st.Apply(m)
	if err != nil {
		t.Fatal(err)
	}
	if n.st.Versions[pb.Kind_KIND_SERVICES] == 0 || n.st.Versions[pb.Kind_KIND_ENDPOINTSLICES] == 0 {
		return 0 // the agent programs nothing before it holds both snapshots
	}
	start := time.Now()
	if err := n.rec.Apply(t.Context(), n.st, c); err != nil {
		t.Fatal(err)
	}
	return time.Since(start)
}

// blocks is the pinned maps' dump (read from the pins, as `weir dataplane
// dump` does) split into its per-group blocks, by group name.
func (n *deltaNode) blocks(t *testing.T) map[string]string {
	t.Helper()
	var buf bytes.Buffer
	if err := dataplane.DumpPinned(n.cfg, &buf); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	name := ""
	for _, line := range strings.SplitAfter(buf.String(), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "service" {
			name = f[1]
		} else if strings.HasPrefix(line, "orphan") {
			name = "orphans"
		}
		out[name] += line
	}
	return out
}

// changedBlocks lists the groups whose dump differs between a and b.
func changedBlocks(a, b map[string]string) []string {
	var out []string
	for k, v := range a {
		if b[k] != v {
			out = append(out, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	return out
}

// deltaCluster is n services default/sNNNN (ClusterIP 10.96.x.y, port
// http) each with one EndpointSlice sNNNN-1 of two endpoints.
func deltaCluster(n int) (svcs, slices []any) {
	for i := range n {
		name := fmt.Sprintf("s%04d", i)
		svcs = append(svcs, svcObj(name, fmt.Sprintf("10.96.%d.%d", i/250, 1+i%250), "1", "http"))
		slices = append(slices, sliceObj(name+"-1", name, "1", fmt.Sprintf("10.128.%d.%d", i/100, 2*(i%100)+1), fmt.Sprintf("10.128.%d.%d", i/100, 2*(i%100)+2)))
	}
	return svcs, slices
}

// TestDeltaAcceptance (issue #15): with 5,000 Services, each with one
// EndpointSlice, in a real dataplane and DNS server, changing one
// EndpointSlice upserts exactly that service (weir_dataplane_upserts_total
// +1, no full Sync) and changes only its entries in the pinned maps and
// only its DNS names; changing its Service does the same for its ClusterIP
// and A record; a message of another kind touches neither. The per-change
// apply time and a full Sync's are logged (not gated). With -short (the
// kernel guests under TCG, where each new Service's Maglev table waits in
// synchronize_rcu) it loads 1,500 Services; make test runs the 5,000.
func TestDeltaAcceptance(t *testing.T) {
	n := 5000
	if testing.Short() {
		n = 1500
	}
	node := newDeltaNode(t)
	svcs, slices := deltaCluster(n)
	node.apply(t, message(t, pb.Kind_KIND_SERVICES, 1, true, svcs...))
	first := node.apply(t, message(t, pb.Kind_KIND_ENDPOINTSLICES, 1, true, slices...))
	metric := func(name string) float64 { return gathered(t, node.reg, name) }
	if got := metric("weir_dataplane_full_syncs_total"); got != 1 {
		t.Fatalf("full syncs after the snapshots = %v, want 1", got)
	}
	if got := lookupA(node.dnsAddr, "udp", "s1234.default.svc.cluster.local."); got != "10.96.4.235" {
		t.Fatalf("s1234 = %q after the snapshots", got)
	}
	const group = "default/s1234:http/TCP/v4"
	counters := func() [4]float64 {
		return [4]float64{metric("weir_dataplane_upserts_total"), metric("weir_dataplane_deletes_total"),
			metric("weir_dataplane_full_syncs_total"), metric("weir_dns_names_changed_total")}
	}

	// One EndpointSlice changes: one endpoint replaced.
	before, c0 := node.blocks(t), counters()
	node.apply(t, message(t, pb.Kind_KIND_ENDPOINTSLICES, 2, false, sliceObj("s1234-1", "s1234", "2", "10.128.12.69", "10.129.0.1")))
	after, c1 := node.blocks(t), counters()
	if d := c1[0] - c0[0]; d != 1 {
		t.Errorf("upserts_total rose by %v, want 1 (s1234)", d)
	}
	if c1[1] != c0[1] || c1[2] != c0[2] {
		t.Errorf("deletes %v -> %v, full syncs %v -> %v: want both unchanged", c0[1], c1[1], c0[2], c1[2])
	}
	if got := changedBlocks(before, after); len(got) != 1 || got[0] != group {
		t.Errorf("map groups changed: %v, want only %s", got, group)
	}
	if !strings.Contains(after[group], "10.129.0.1:8080") || strings.Contains(after[group], "10.128.12.70:8080") {
		t.Errorf("%s after the change:\n%s", group, after[group])
	}
	if d := c1[3] - c0[3]; d == 0 || d > 10 {
		t.Errorf("DNS rebuilt %v names for one slice, want only s1234's", d)
	}

	// Its Service changes ClusterIP: the map entries and A record of that
	// service change, nothing else.
	before, c0 = after, c1
	node.apply(t, message(t, pb.Kind_KIND_SERVICES, 2, false, svcObj("s1234", "10.97.0.1", "2", "http")))
	after, c1 = node.blocks(t), counters()
	if c1[0]-c0[0] != 1 || c1[1] != c0[1] || c1[2] != c0[2] {
		t.Errorf("service change: counters %v -> %v, want one upsert only", c0, c1)
	}
	if got := changedBlocks(before, after); len(got) != 1 || got[0] != group || !strings.Contains(after[group], "10.97.0.1:80/TCP") {
		t.Errorf("map groups changed: %v, want only %s with the new ClusterIP:\n%s", got, group, after[group])
	}
	for name, want := range map[string]string{"s1234": "10.97.0.1", "s1233": "10.96.4.234", "s1235": "10.96.4.236"} {
		if got := lookupA(node.dnsAddr, "udp", name+".default.svc.cluster.local."); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if d := c1[3] - c0[3]; d == 0 || d > 10 {
		t.Errorf("DNS rebuilt %v names for one service, want only s1234's", d)
	}

	// Messages of other kinds touch neither the maps nor the counters.
	before, c0 = after, c1
	node.apply(t, &pb.ServerMessage{Kind: pb.Kind_KIND_ROUTES, Version: 1, Resources: []*pb.Resource{{Name: "other",
		Route: &pb.Route{Node: "other", PodCidr: "10.244.9.0/24", NodeIp: "192.168.79.9"}}}})
	node.apply(t, message(t, pb.Kind_KIND_SERVICES, 3, false, svcObj("s1234", "10.97.0.1", "2", "http"))) // resent, same version
	if after, c1 = node.blocks(t), counters(); len(changedBlocks(before, after)) != 0 || c1 != c0 {
		t.Errorf("a routes message and a resent service changed %v, counters %v -> %v", changedBlocks(before, after), c0, c1)
	}

	// Per-change apply time (s1000, there in both sizes) against a full Sync of the same services
	// (what every message cost before), and the DNS's full rebuild.
	const changes = 50
	var perChange time.Duration
	for i := range changes {
		sl := sliceObj("s1000-1", "s1000", fmt.Sprint(10+i), "10.128.10.1", fmt.Sprintf("10.130.0.%d", 1+i))
		perChange += node.apply(t, message(t, pb.Kind_KIND_ENDPOINTSLICES, uint64(10+i), false, sl))
	}
	perChange /= changes
	start := time.Now()
	desired, err := dataplane.DesiredFromObjects(node.st.Services(), node.st.Slices())
	if err != nil {
		t.Fatal(err)
	}
	stats, err := node.dp.Sync(t.Context(), desired)
	if err != nil || stats.Unchanged != n {
		t.Fatalf("full Sync: %+v, %v; want %d groups unchanged", stats, err, n)
	}
	full := time.Since(start)
	start = time.Now()
	node.dns.Update(node.st.Services(), node.st.Slices(), node.st.Pods())
	dnsFull := time.Since(start)
	t.Logf("%d services: one EndpointSlice change applied in %v (mean of %d: Upsert + DNS delta); a full Sync takes %v (conversion + diff of every service, nothing written), a full DNS rebuild %v; the first apply (both snapshots, maps empty) took %v",
		n, perChange.Round(time.Microsecond), changes, full.Round(time.Microsecond), dnsFull.Round(time.Microsecond), first.Round(time.Millisecond))
}
