package push

import (
	"context"
	"fmt"
	"time"

	"github.com/weirnet/weir/tests/controlplane/cluster"
)

// Cluster is a running control plane with cfg.Agents connected agents,
// for benchmarks built on this one (weir-bench scale-agents): the same
// members, agents and change-to-last-ACK measurement as Run.
type Cluster struct {
	cfg     Config
	cp      *controlPlane
	f       *fleet
	changes int
}

// StartCluster starts cfg.Members members (with cfg.ServerArgs), creates
// the EndpointSlice that Change rewrites, and connects cfg.Agents agents
// that heartbeat every cfg.Heartbeat; it returns once every agent ACKed
// its snapshot. baseline is the members' usage before the agents came.
func StartCluster(ctx context.Context, cfg Config) (c *Cluster, baseline Usage, err error) {
	if cfg, err = cfg.withDefaults(); err != nil {
		return nil, Usage{}, err
	}
	cp, err := startControlPlane(ctx, cfg)
	if err != nil {
		return nil, Usage{}, err
	}
	if err := create(ctx, cp.members[0].client, "single"); err != nil {
		cp.Close()
		return nil, Usage{}, err
	}
	time.Sleep(time.Second) // let the members settle before the baseline
	u0, err := usageOf(cp)
	if err != nil {
		cp.Close()
		return nil, Usage{}, err
	}
	time.Sleep(baselineWindow)
	if baseline, err = usageOf(cp); err != nil {
		cp.Close()
		return nil, Usage{}, err
	}
	baseline.IdleCores = (baseline.CPU - u0.CPU).Seconds() / baselineWindow.Seconds()
	fmt.Fprintf(cfg.Log, "control plane up (%s); connecting %d agents\n", cp.dir, cfg.Agents)
	f, err := connect(ctx, cp, cfg.Agents, cfg.Heartbeat)
	if err != nil {
		cp.Close()
		return nil, Usage{}, err
	}
	return &Cluster{cfg: cfg, cp: cp, f: f}, baseline, nil
}

// baselineWindow is how long StartCluster measures the members idle
// before the agents connect.
const baselineWindow = 5 * time.Second

// Usage is the members' summed CPU time and resident memory; for the
// baseline StartCluster returns, also their idle CPU (cores) over
// baselineWindow before the agents connected.
type Usage struct {
	CPU       time.Duration
	RSSKiB    int64
	IdleCores float64
}

func usageOf(cp *controlPlane) (Usage, error) {
	u, err := cp.usage()
	return Usage{CPU: u.cpu, RSSKiB: u.rssKiB}, err
}

// Usage is the members' usage now.
func (c *Cluster) Usage() (Usage, error) { return usageOf(c.cp) }

// Revision is the store's revision (the raft index of the last write),
// read from member 1.
func (c *Cluster) Revision(ctx context.Context) (uint64, error) {
	r, err := c.cp.members[0].client.Do(ctx, "GET", "/api/v1/namespaces?limit=1", nil)
	if err != nil {
		return 0, err
	}
	if r.Code != 200 {
		return 0, fmt.Errorf("list namespaces: %d %s", r.Code, r.Body)
	}
	l, err := cluster.DecodeList(r.Body)
	return l.Revision, err
}

// Change writes the EndpointSlice once more (through the API of member
// i%Members) and returns the time from the write to the last agent's ACK
// of a version that holds it.
func (c *Cluster) Change(ctx context.Context, i int) (time.Duration, error) {
	c.changes++
	start := time.Now()
	rev, err := put(ctx, c.cp.members[i%len(c.cp.members)].client, "single", c.changes)
	if err != nil {
		return 0, err
	}
	_, last, err := c.f.waitAll(rev, 60*time.Second)
	if err != nil {
		return 0, err
	}
	return last.Sub(start), nil
}

// Reconnects counts agent sessions that ended and were reopened.
func (c *Cluster) Reconnects() int {
	c.f.mu.Lock()
	defer c.f.mu.Unlock()
	return c.f.retries
}

// Dir is where the members keep their data and logs.
func (c *Cluster) Dir() string { return c.cp.dir }

// Close disconnects the agents and stops the members.
func (c *Cluster) Close() {
	c.f.Close()
	c.cp.Close()
}

// Profile fetches /debug/pprof/NAME (with query, e.g. "goroutine?debug=1")
// from member 1.
func (c *Cluster) Profile(ctx context.Context, name string) ([]byte, error) {
	r, err := c.cp.members[0].client.Do(ctx, "GET", "/debug/pprof/"+name, nil)
	if err != nil {
		return nil, err
	}
	if r.Code != 200 {
		return nil, fmt.Errorf("pprof %s: %d %s", name, r.Code, r.Body)
	}
	return r.Body, nil
}
