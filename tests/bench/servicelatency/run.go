package servicelatency

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// bench is one run's live state: the topology, backends, client children
// and the mode installers.
type bench struct {
	o        Options
	topo     *topology
	backends []*backend
	clients  map[string]*clientProc
	ipt      *iptablesMode
	nft      *nftMode
	weir     *weirMode
	syncCg   string
}

// Run builds the topology, measures every scale and removes everything,
// also on error or when ctx is cancelled (Ctrl-C).
func Run(ctx context.Context, o Options) (*Result, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := checkBinaries(o); err != nil {
		return nil, err
	}
	res := &Result{Started: time.Now().UTC().Format(time.RFC3339), Machine: describeMachine(), Options: o}
	b := &bench{o: o, clients: map[string]*clientProc{}}
	defer b.close()
	if err := b.setup(); err != nil {
		return nil, err
	}
	for _, n := range o.Scales {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		sr, err := b.scale(ctx, n)
		if err != nil {
			return res, fmt.Errorf("%d services: %w", n, err)
		}
		res.Scales = append(res.Scales, *sr)
	}
	return res, nil
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.o.Progress, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func (b *bench) setup() error {
	t, err := newTopology(b.o.Modes)
	if err != nil {
		return fmt.Errorf("build namespaces: %w", err)
	}
	b.topo = t
	if b.syncCg, err = t.addCgroup("sync"); err != nil {
		return err
	}
	for _, p := range append(slices.Clone(t.local), t.remote...) {
		be, err := startBackend(t.podNS[p.name], p.name)
		if err != nil {
			return err
		}
		b.backends = append(b.backends, be)
	}
	for _, m := range b.o.Modes {
		cg := t.cgOther
		if m == ModeWeir {
			cg = t.cgWeir
		}
		c, err := startClient(m, t.clients[m], cg, b.o.ClientArgv)
		if err != nil {
			return err
		}
		b.clients[m] = c
	}
	if ns, ok := t.clients[ModeIptables]; ok {
		b.ipt = &iptablesMode{ns: ns, restore: b.o.Iptables}
	}
	if ns, ok := t.clients[ModeNftables]; ok {
		b.nft = &nftMode{ns: ns}
	}
	if _, ok := t.clients[ModeWeir]; ok {
		b.weir = &weirMode{cgroup: t.cgWeir, log: b.o.Logger}
	}
	b.logf("topology ready: nodes %v, clients %v", t.nodes, t.clients)
	return nil
}

// close stops clients, dataplane, backends and removes the namespaces and
// cgroups; it is safe after a partial setup.
func (b *bench) close() error {
	var errs []error
	for _, c := range b.clients {
		c.close()
	}
	if b.weir != nil {
		errs = append(errs, b.weir.close())
	}
	for _, be := range b.backends {
		be.Close()
	}
	if b.topo != nil {
		errs = append(errs, b.topo.close())
	}
	return errors.Join(errs...)
}

// active is the modes measured at n services.
func (b *bench) active(n int) []string {
	var out []string
	for _, m := range b.o.Modes {
		if (m == ModeIptables || m == ModeNftables) && n > b.o.KubeProxyMax {
			continue
		}
		out = append(out, m)
	}
	return out
}

func (b *bench) scale(ctx context.Context, n int) (*ScaleResult, error) {
	rng := rand.New(rand.NewPCG(b.o.Seed, uint64(n)))
	specs := placeTargets(n, b.topo.local, b.topo.remote, rng)
	svcs, targets := generate(n, b.o.Endpoints, specs)
	sr := &ScaleResult{Services: n, Ports: len(svcs), Targets: targets}
	for _, s := range svcs {
		sr.Endpoints += len(s.Endpoints)
	}
	active := b.active(n)
	for _, m := range active {
		mr, err := b.installMode(ctx, m, svcs, rng)
		if err != nil {
			return nil, err
		}
		b.logf("%d services: %s installed in %.1f ms, one change %.3f ms", n, m, mr.InstallMs, mr.ChangeMs)
		sr.Modes = append(sr.Modes, *mr)
	}
	if err := b.verify(active, targets); err != nil {
		return nil, err
	}
	if err := b.measure(ctx, sr, active, targets); err != nil {
		return nil, err
	}
	if b.weir != nil {
		if err := b.weir.close(); err != nil {
			return nil, err
		}
		if b.o.SyncBackends > 0 {
			big, _ := generate(n, b.o.SyncBackends, specs)
			d, mem, err := weirSyncOnly(ctx, b.syncCg, big, b.o.Logger)
			if err != nil {
				return nil, fmt.Errorf("weir sync with %d backends each: %w", b.o.SyncBackends, err)
			}
			sw := &SyncResult{Backends: b.o.SyncBackends, SyncMs: ms(d), MemoryBytes: mem}
			for _, s := range big {
				sw.Endpoints += len(s.Endpoints)
			}
			sr.WeirSync = sw
			b.logf("%d services x %d backends: weir Sync %.1f ms", n, b.o.SyncBackends, sw.SyncMs)
		}
	}
	return sr, nil
}
