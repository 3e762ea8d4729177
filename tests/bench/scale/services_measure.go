package scale

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/miekg/dns"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/weirnet/weir/dataplane"
)

// measureBare applies every size to a bare weir server.
func measureBare(ctx context.Context, cfg Config) ([]Apply, error) {
	b, err := startBare(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	if err := createNamespace(ctx, b.kube); err != nil {
		return nil, err
	}
	var out []Apply
	prev := 0
	for _, n := range cfg.Services {
		a, err := apply(ctx, cfg, b.kube, prev, n)
		if err != nil {
			return nil, err
		}
		logf(cfg, "bare server: Services %d..%d: %d objects in %.1fs, %.0f/s", prev, n, a.Objects, a.Seconds, a.PerSec)
		out = append(out, a)
		prev = n
	}
	return out, nil
}

// Agent metrics the benchmark reads.
const (
	mSyncSum  = "weir_dataplane_sync_duration_seconds_sum"
	mSyncN    = "weir_dataplane_sync_duration_seconds_count"
	mUpserts  = "weir_dataplane_upserts_total"
	mFullSync = "weir_dataplane_full_syncs_total"
)

// measureCluster brings up a cluster of nodes and measures every size in it.
func measureCluster(ctx context.Context, cfg Config, nodes int, bare []Apply) ([]Run1, error) {
	c, err := startCluster(ctx, cfg, nodes)
	if err != nil {
		return nil, err
	}
	defer c.Close(cfg)
	if err := createNamespace(ctx, c.kube); err != nil {
		return nil, err
	}
	nv, err := openNodes(c)
	if err != nil {
		return nil, err
	}
	defer nv.Close()
	probe, err := newDNSProbe(ctx, c, nv)
	if err != nil {
		return nil, err
	}
	var runs []Run1
	ips := map[int]netip.Addr{}
	prev := 0
	for si, n := range cfg.Services {
		r := Run1{Nodes: nodes, Services: n}
		before, err := cpuOf(c.procs)
		if err != nil {
			return nil, err
		}
		a, err := apply(ctx, cfg, c.kube, prev, n)
		if err != nil {
			return nil, err
		}
		after, err := cpuOf(c.procs)
		if err != nil {
			return nil, err
		}
		r.Apply, r.BarePerSec = a, bare[si].PerSec
		r.ApplyRatio = a.PerSec / bare[si].PerSec
		r.ApplyCPU = cpuShares(c.procs, before, after, a.Seconds)
		for i, ip := range a.clusterIPs {
			ips[i] = ip
		}
		logf(cfg, "%d nodes: Services %d..%d: %d objects in %.1fs, %.0f/s (%.2fx the bare server's)", nodes, prev, n, a.Objects, a.Seconds, a.PerSec, r.ApplyRatio)
		last := (n - 1) / cfg.EndpointsEvery * cfg.EndpointsEvery
		start := time.Now()
		if err := nv.waitAll(ctx, netip.AddrPortFrom(ips[last], 80), func(b []netip.AddrPort) bool { return len(b) == cfg.Endpoints }, 10*time.Minute); err != nil {
			return nil, fmt.Errorf("converging at %d Services: %w", n, err)
		}
		r.ConvergeSeconds = time.Since(start).Seconds()
		logf(cfg, "every node's maps hold Service %d %.1fs after the last write; settling %v, idle %v", last, r.ConvergeSeconds, cfg.Settle, cfg.Idle)
		if err := sleep(ctx, cfg.Settle); err != nil {
			return nil, err
		}
		if err := idle(ctx, cfg, c, &r); err != nil {
			return nil, err
		}
		if err := mapChanges(ctx, cfg, c, nv, ips, n, &r); err != nil {
			return nil, err
		}
		if r.DNS, err = probe.changes(ctx, cfg.DNSChanges); err != nil {
			return nil, err
		}
		logf(cfg, "%d nodes, %d Services: map p50 %.1f ms p99 %.1f ms; DNS p50 %.1f ms p99 %.1f ms; idle agent CPU %.2f%%, RSS %.0f MiB",
			nodes, n, r.Map.P50Ms, r.Map.P99Ms, r.DNS.P50Ms, r.DNS.P99Ms, r.AgentIdleCPUPct, r.AgentRSSMiB)
		runs = append(runs, r)
		prev = n
	}
	return runs, nil
}

// cpuShares is each component's CPU over a window, in % of a core (summed
// over its processes).
func cpuShares(procs []proc, before, after map[int]float64, seconds float64) map[string]float64 {
	out := map[string]float64{}
	for _, p := range procs {
		out[p.Component] += 100 * (after[p.PID] - before[p.PID]) / seconds
	}
	return out
}

// idle reads every process's CPU over cfg.Idle and its RSS after it, and
// the full syncs the agents ran meanwhile.
func idle(ctx context.Context, cfg Config, c *cluster, r *Run1) error {
	fullBefore, err := c.sumMetric(ctx, mFullSync)
	if err != nil {
		return err
	}
	before, err := cpuOf(c.procs)
	if err != nil {
		return err
	}
	if err := sleep(ctx, cfg.Idle); err != nil {
		return err
	}
	after, err := cpuOf(c.procs)
	if err != nil {
		return err
	}
	fullAfter, err := c.sumMetric(ctx, mFullSync)
	if err != nil {
		return err
	}
	r.IdleFullSyncs = fullAfter - fullBefore
	for _, p := range c.procs {
		rss, err := rssMiB(p.PID)
		if err != nil {
			return fmt.Errorf("%s: %w", p.Name, err)
		}
		pi := ProcIdle{Name: p.Name, Component: p.Component, CPUPct: 100 * (after[p.PID] - before[p.PID]) / cfg.Idle.Seconds(), RSSMiB: rss}
		r.Procs = append(r.Procs, pi)
		switch p.Component {
		case "agent":
			r.AgentIdleCPUPct = max(r.AgentIdleCPUPct, pi.CPUPct)
			r.AgentRSSMiB = max(r.AgentRSSMiB, pi.RSSMiB)
		case "member":
			r.MemberIdleCPUPct = max(r.MemberIdleCPUPct, pi.CPUPct)
			r.MemberRSSMiB = max(r.MemberRSSMiB, pi.RSSMiB)
		}
	}
	return nil
}

// sumMetric sums an agent metric over the nodes.
func (c *cluster) sumMetric(ctx context.Context, name string) (float64, error) {
	var sum float64
	for _, n := range c.state.Nodes {
		m, err := c.scrape(ctx, n.Name, name)
		if err != nil {
			return 0, err
		}
		sum += m[name]
	}
	return sum, nil
}

// mapChanges times cfg.Changes single EndpointSlice changes from the
// write until every node's maps serve the new backend, and reads the
// agents' CPU and dataplane time over them.
func mapChanges(ctx context.Context, cfg Config, c *cluster, nv *nodeViews, ips map[int]netip.Addr, n int, r *Run1) error {
	agents := slices.DeleteFunc(slices.Clone(c.procs), func(p proc) bool { return p.Component != "agent" })
	metric := func() (sum, count, upserts float64, err error) {
		if sum, err = c.sumMetric(ctx, mSyncSum); err != nil {
			return
		}
		if count, err = c.sumMetric(ctx, mSyncN); err != nil {
			return
		}
		upserts, err = c.sumMetric(ctx, mUpserts)
		return
	}
	s0, n0, u0, err := metric()
	if err != nil {
		return err
	}
	cpu0, err := cpuOf(agents)
	if err != nil {
		return err
	}
	start := time.Now()
	var lat latencies
	for k := range cfg.Changes {
		i := (k * 7919) % (n / cfg.EndpointsEvery) * cfg.EndpointsEvery
		front := netip.AddrPortFrom(ips[i], 80)
		s, err := c.kube.DiscoveryV1().EndpointSlices(namespace).Get(ctx, serviceName(i)+"-0", metav1.GetOptions{})
		if err != nil {
			return err
		}
		ip := addrPlus(netip.MustParseAddr("172.24.0.0"), nv.fresh())
		s.Endpoints[0].Addresses = []string{ip.String()}
		want := netip.AddrPortFrom(ip, 8080)
		t0 := time.Now()
		if _, err := c.kube.DiscoveryV1().EndpointSlices(namespace).Update(ctx, s, metav1.UpdateOptions{}); err != nil {
			return err
		}
		wrote := time.Since(t0)
		first, all, ok := nv.waitChange(ctx, t0, front, want)
		lat.add(wrote, first, all, ok)
		if err := sleep(ctx, 20*time.Millisecond); err != nil {
			return err
		}
	}
	phase := time.Since(start).Seconds()
	cpu1, err := cpuOf(agents)
	if err != nil {
		return err
	}
	s1, n1, u1, err := metric()
	if err != nil {
		return err
	}
	r.Map = lat.summary()
	var cpu float64
	for _, p := range agents {
		cpu += cpu1[p.PID] - cpu0[p.PID]
	}
	perAgent := float64(cfg.Changes * len(agents))
	r.AgentCPUPerChangeMs = 1000 * cpu / perAgent
	r.AgentCPUPerChangeNetMs = 1000 * (cpu - r.agentIdleCPUSum()/100*phase) / perAgent
	if n1 > n0 {
		r.AgentDataplaneMsPerChange = 1000 * (s1 - s0) / (n1 - n0)
	}
	r.AgentUpsertsPerChange = (u1 - u0) / perAgent
	return nil
}

// agentIdleCPUSum is the idle CPU of all agents together, % of a core.
func (r *Run1) agentIdleCPUSum() float64 {
	var s float64
	for _, p := range r.Procs {
		if p.Component == "agent" {
			s += p.CPUPct
		}
	}
	return s
}

// nodeViews reads every node's pinned maps.
type nodeViews struct {
	names   []string
	lookups []*dataplane.PinnedLookup
	mu      sync.Mutex
	next    int
}

func openNodes(c *cluster) (*nodeViews, error) {
	nv := &nodeViews{}
	for _, n := range c.state.Nodes {
		l, err := dataplane.OpenPinnedLookup(dataplane.Config{Instance: n.Name})
		if err != nil {
			nv.Close()
			return nil, err
		}
		nv.names = append(nv.names, n.Name)
		nv.lookups = append(nv.lookups, l)
	}
	return nv, nil
}

func (nv *nodeViews) Close() {
	for _, l := range nv.lookups {
		l.Close()
	}
}

// fresh numbers the addresses changes write, never reused in a cluster.
func (nv *nodeViews) fresh() int {
	nv.mu.Lock()
	defer nv.mu.Unlock()
	nv.next++
	return nv.next
}

// waitAll waits until ok holds for front's backends on every node.
func (nv *nodeViews) waitAll(ctx context.Context, front netip.AddrPort, ok func([]netip.AddrPort) bool, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for i, l := range nv.lookups {
		for {
			b, err := l.Backends(front, dataplane.TCP)
			if err != nil {
				return err
			}
			if b != nil && ok(b) {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("node %s: %s has backends %v after %v", nv.names[i], front, b, timeout)
			}
			if err := sleep(ctx, 100*time.Millisecond); err != nil {
				return err
			}
		}
	}
	return nil
}

// changeTimeout bounds one change's wait for every node.
const changeTimeout = 10 * time.Second

// waitChange polls every node's maps (every 500 µs) until front serves
// want: the times since t0 at which the first and the last node did.
func (nv *nodeViews) waitChange(ctx context.Context, t0 time.Time, front, want netip.AddrPort) (first, last time.Duration, ok bool) {
	seen := make([]time.Duration, len(nv.lookups))
	var wg sync.WaitGroup
	for i, l := range nv.lookups {
		wg.Go(func() {
			for time.Since(t0) < changeTimeout && ctx.Err() == nil {
				b, err := l.Backends(front, dataplane.TCP)
				if err == nil && slices.Contains(b, want) {
					seen[i] = time.Since(t0)
					return
				}
				time.Sleep(500 * time.Microsecond)
			}
		})
	}
	wg.Wait()
	first = seen[0]
	for _, s := range seen {
		if s == 0 {
			return 0, 0, false
		}
		first, last = min(first, s), max(last, s)
	}
	return first, last, true
}

// dnsProbe is a headless Service whose slice the DNS changes rewrite,
// and a UDP socket to every node's DNS server, opened in its netns.
type dnsProbe struct {
	kube  kubernetes.Interface
	nv    *nodeViews
	conns []*dns.Conn
	fqdn  string
}

const probeName = "dnsprobe"

func newDNSProbe(ctx context.Context, c *cluster, nv *nodeViews) (*dnsProbe, error) {
	svc := serviceObj(0)
	svc.Name, svc.Spec.ClusterIP = probeName, "None"
	if _, err := c.kube.CoreV1().Services(namespace).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		return nil, err
	}
	if _, err := c.kube.DiscoveryV1().EndpointSlices(namespace).Create(ctx, sliceObj(probeName, []netip.Addr{
		netip.MustParseAddr("172.28.0.1"), netip.MustParseAddr("172.28.0.2")}), metav1.CreateOptions{}); err != nil {
		return nil, err
	}
	p := &dnsProbe{kube: c.kube, nv: nv, fqdn: probeName + "." + namespace + ".svc.cluster.local."}
	for _, n := range c.state.Nodes {
		err := inNetns(n.Name, func() error {
			co, err := dns.Dial("udp", n.IP+":53")
			if err == nil {
				p.conns = append(p.conns, co)
			}
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("DNS server of %s: %w", n.Name, err)
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for i := range p.conns {
		for !slices.Contains(p.answer(i), netip.MustParseAddr("172.28.0.2")) {
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("node %s's DNS does not answer %s with its endpoints", c.state.Nodes[i].Name, p.fqdn)
			}
			if err := sleep(ctx, 100*time.Millisecond); err != nil {
				return nil, err
			}
		}
	}
	return p, nil
}

// answer is node i's A records for the probe (nil on any error).
func (p *dnsProbe) answer(i int) []netip.Addr {
	m := new(dns.Msg).SetQuestion(p.fqdn, dns.TypeA)
	co := p.conns[i]
	_ = co.SetDeadline(time.Now().Add(200 * time.Millisecond))
	if err := co.WriteMsg(m); err != nil {
		return nil
	}
	for {
		r, err := co.ReadMsg()
		if err != nil {
			return nil
		}
		if r.Id != m.Id {
			continue // a late answer to an earlier query
		}
		var out []netip.Addr
		for _, rr := range r.Answer {
			if a, ok := rr.(*dns.A); ok {
				if ip, ok := netip.AddrFromSlice(a.A.To4()); ok {
					out = append(out, ip)
				}
			}
		}
		return out
	}
}

// changes times k rewrites of the probe's first endpoint until every
// node's DNS answers with the new address.
func (p *dnsProbe) changes(ctx context.Context, k int) (Latency, error) {
	var lat latencies
	for range k {
		s, err := p.kube.DiscoveryV1().EndpointSlices(namespace).Get(ctx, probeName+"-0", metav1.GetOptions{})
		if err != nil {
			return Latency{}, err
		}
		ip := addrPlus(netip.MustParseAddr("172.29.0.0"), p.nv.fresh())
		s.Endpoints[0].Addresses = []string{ip.String()}
		t0 := time.Now()
		if _, err := p.kube.DiscoveryV1().EndpointSlices(namespace).Update(ctx, s, metav1.UpdateOptions{}); err != nil {
			return Latency{}, err
		}
		wrote := time.Since(t0)
		first, last, ok := p.wait(ctx, t0, ip)
		lat.add(wrote, first, last, ok)
		if err := sleep(ctx, 20*time.Millisecond); err != nil {
			return Latency{}, err
		}
	}
	return lat.summary(), nil
}

// wait polls every node's DNS server (every 1 ms, one node after the
// other) until each answers with ip.
func (p *dnsProbe) wait(ctx context.Context, t0 time.Time, ip netip.Addr) (first, last time.Duration, ok bool) {
	seen := make([]time.Duration, len(p.conns))
	left := len(p.conns)
	for left > 0 && time.Since(t0) < changeTimeout && ctx.Err() == nil {
		for i := range p.conns {
			if seen[i] == 0 && slices.Contains(p.answer(i), ip) {
				seen[i] = time.Since(t0)
				left--
			}
		}
		time.Sleep(time.Millisecond)
	}
	if left > 0 {
		return 0, 0, false
	}
	first = seen[0]
	for _, s := range seen {
		first, last = min(first, s), max(last, s)
	}
	return first, last, true
}

// latencies collects per-change times.
type latencies struct {
	write, first, all []float64 // ms
	timeouts          int
}

func (l *latencies) add(write, first, all time.Duration, ok bool) {
	l.write = append(l.write, ms(write))
	if !ok {
		l.timeouts++
		return
	}
	l.first = append(l.first, ms(first))
	l.all = append(l.all, ms(all))
}

func (l *latencies) summary() Latency {
	return Latency{Changes: len(l.write), Timeouts: l.timeouts, P50Ms: pct(l.all, 50), P99Ms: pct(l.all, 99), MaxMs: pct(l.all, 100),
		FirstP50Ms: pct(l.first, 50), FirstP99Ms: pct(l.first, 99), WriteP50Ms: pct(l.write, 50), WriteP99Ms: pct(l.write, 99)}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// pct is the p-th percentile (nearest rank) of v; 0 for none.
func pct(v []float64, p float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	sort.Float64s(s)
	i := int(p/100*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
