package dataplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// Manager owns one loaded dataplane instance. Its methods are safe for
// concurrent use; Sync calls are serialised.
type Manager struct {
	cfg   Config
	log   *slog.Logger
	coll  *ebpf.Collection
	ms    *lbMapSet
	links []link.Link
	met   *metrics

	mu     sync.Mutex
	st     *state
	closed bool
}

// New loads the programs, creates or adopts the pinned maps of
// cfg.Instance, and attaches the socket hooks to cfg.CgroupPath and the
// per-packet programs to cfg.Interfaces. On existing pins the running
// state is kept: programs are replaced atomically and the next Sync
// writes only differences.
func New(cfg Config) (*Manager, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if _, err := checkCgroup(cfg.CgroupPath); err != nil {
		return nil, err
	}
	coll, spec, err := load(cfg)
	if err != nil {
		return nil, err
	}
	m := &Manager{cfg: cfg, log: cfg.Logger.With("instance", cfg.Instance), coll: coll, ms: mapSet(coll, spec)}
	if m.st, err = adopt(m.ms, cfg.MaxServices, cfg.MaglevTableSize); err != nil {
		coll.Close()
		return nil, err
	}
	if m.links, err = attachCgroup(cfg, coll); err != nil {
		coll.Close()
		return nil, err
	}
	if err := attachTC(cfg, coll); err != nil {
		m.closeFDs()
		return nil, err
	}
	if m.met, err = newMetrics(cfg.Registerer, m); err != nil {
		m.closeFDs()
		return nil, err
	}
	m.log.Info("dataplane ready", "pins", cfg.PinDir(), "cgroup", cfg.CgroupPath,
		"interfaces", cfg.Interfaces, "adopted_services", len(m.st.groups), "adopted_frontends", len(m.st.fronts))
	return m, nil
}

func mapSet(coll *ebpf.Collection, spec *ebpf.CollectionSpec) *lbMapSet {
	return &lbMapSet{
		services:    coll.Maps[lbMapLbServices],
		backends:    coll.Maps[lbMapLbBackends],
		revnat:      coll.Maps[lbMapLbRevnat],
		names:       coll.Maps[lbMapLbNames],
		maglev:      coll.Maps[lbMapLbMaglev],
		stats:       coll.Maps[lbMapLbStats],
		maglevInner: spec.Maps[lbMapLbMaglev].InnerMap,
		cpus:        ebpf.MustPossibleCPU(),
	}
}

// Sync makes the maps serve exactly d. Services that cannot be applied
// (invalid, conflicting frontends, map full) are skipped and reported in
// the returned error; their previous state stays. An error from the kernel
// aborts the Sync; what was written stays consistent (see the package doc)
// and the next Sync continues from what is in the maps. Sync also removes
// entries a crashed owner left half-written.
func (m *Manager) Sync(ctx context.Context, d Desired) (SyncStats, error) {
	return m.sync(ctx, d, nil, opSync, 0)
}

// Resync is Sync as a safety net for an owner that keeps the maps current
// with Upsert and Delete: it first reads the maps back (so entries changed
// or removed behind the Manager's back are seen), then syncs d. Every
// service group it has to add, update or remove is drift the deltas missed,
// counted in weir_dataplane_resync_repairs_total. It costs a full read of
// the maps: call it rarely (minutes apart) and off the hot path.
func (m *Manager) Resync(ctx context.Context, d Desired) (SyncStats, error) {
	return m.sync(ctx, d, nil, opResync, 0)
}

// Upsert adds or replaces the given services and leaves every other
// service alone; its cost is proportional to the change, not to the number
// of services (a full Sync diffs everything).
func (m *Manager) Upsert(ctx context.Context, svcs ...Service) (SyncStats, error) {
	return m.sync(ctx, Desired{Services: svcs}, scopeOf(svcs), opUpsert, objectsOf(svcs))
}

// Delete removes the given services, identified by Namespace, Name,
// PortName and Protocol (other fields are ignored). Unknown ones are skipped.
func (m *Manager) Delete(ctx context.Context, svcs ...Service) (SyncStats, error) {
	return m.sync(ctx, Desired{}, scopeOf(svcs), opDelete, objectsOf(svcs))
}

// op is what a sync was called as (for the metrics).
type op uint8

const (
	opSync op = iota
	opResync
	opUpsert
	opDelete
)

func scopeOf(svcs []Service) map[string]bool {
	scope := map[string]bool{}
	for i := range svcs {
		scope[groupName(&svcs[i], false)] = true
		scope[groupName(&svcs[i], true)] = true
	}
	return scope
}

// objectsOf counts the Kubernetes Services (namespace/name) among svcs.
func objectsOf(svcs []Service) int {
	seen := map[[2]string]bool{}
	for i := range svcs {
		seen[[2]string{svcs[i].Namespace, svcs[i].Name}] = true
	}
	return len(seen)
}

// sync plans and writes d; scope nil is a full sync. touched is the
// number of Kubernetes Services an Upsert or Delete names.
func (m *Manager) sync(ctx context.Context, d Desired, scope map[string]bool, o op, touched int) (SyncStats, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return SyncStats{}, errors.New("dataplane: Sync after Close")
	}
	start := time.Now()
	if o == opResync {
		st, err := adopt(m.ms, m.cfg.MaxServices, m.cfg.MaglevTableSize)
		if err != nil {
			return SyncStats{}, fmt.Errorf("dataplane: resync: %w", err)
		}
		m.st = st
	}
	want, failed, errs := buildWant(&d, m.cfg.NodeIPs)
	p := makePlan(m.st, want, failed, scope, m.capacity(), len(m.cfg.Interfaces) > 0, m.cfg.MaglevTableSize)
	stats := p.stats
	stats.Services = len(d.Services)
	stats.Failed += len(errs)
	stats.Writes = p.writes()
	m.met.called(o, touched)
	if err := m.ms.apply(ctx, p); err != nil {
		stats.Duration = time.Since(start)
		m.met.observe(stats, o, true)
		if st, aerr := adopt(m.ms, m.cfg.MaxServices, m.cfg.MaglevTableSize); aerr == nil {
			m.st = st
		} else {
			err = errors.Join(err, aerr)
		}
		return stats, fmt.Errorf("dataplane: sync: %w", err)
	}
	m.st.commit(p)
	stats.Duration = time.Since(start)
	err := errors.Join(append(errs, p.errs...)...)
	m.met.observe(stats, o, false)
	m.log.Debug("synced", "added", stats.Added, "updated", stats.Updated, "removed", stats.Removed,
		"failed", stats.Failed, "writes", stats.Writes, "duration", stats.Duration)
	return stats, err
}

func (m *Manager) capacity() capacity {
	c := m.cfg
	return capacity{services: c.MaxServices + c.MaxSlots, backends: c.MaxBackends, revnat: c.MaxServices, names: c.MaxServices, maglev: c.MaxServices}
}

// Memory returns the kernel memory charged for the instance's maps
// (memlock as reported by the kernel), including the Maglev tables.
func (m *Manager) Memory() (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return 0, errors.New("dataplane: Memory after Close")
	}
	var total uint64
	for name, mp := range m.coll.Maps {
		info, err := mp.Info()
		if err != nil {
			return 0, fmt.Errorf("dataplane: info of %s: %w", name, err)
		}
		mem, _ := info.Memlock()
		total += mem
	}
	return total + uint64(m.st.maglev)*maglevTableMemory(m.cfg.MaglevTableSize), nil
}

// maglevTableMemory approximates one inner array map: its value plus the
// kernel's fixed array-map overhead, rounded to pages as the kernel does.
func maglevTableMemory(size int) uint64 {
	const page = 4096
	b := uint64(4*size) + 512
	return (b + page - 1) / page * page
}

// Close releases the Manager's file descriptors. Pinned maps and links stay,
// so traffic keeps flowing; use Cleanup to remove them. Close is idempotent.
func (m *Manager) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	m.met.unregister()
	m.closeFDs()
	return nil
}

func (m *Manager) closeFDs() {
	closeLinks(m.links)
	m.coll.Close()
}

// hasSetRetval reports whether the loaded programs refuse with ECONNREFUSED.
func (m *Manager) hasSetRetval() bool {
	var v uint8
	if vr := m.coll.Variables[lbVarHaveSetRetval]; vr != nil {
		_ = vr.Get(&v)
	}
	return v == 1
}
