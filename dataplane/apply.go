package dataplane

import (
	"context"
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
)

// lbMapSet is the subset of the generated maps a plan writes.
type lbMapSet struct {
	services, backends, revnat, names, maglev, stats *ebpf.Map
	maglevInner                                      *ebpf.MapSpec
	cpus                                             int
}

// apply executes p's phases in order; see the plan type for the order and
// why it never exposes a half-written service.
func (ms *lbMapSet) apply(ctx context.Context, p *plan) error {
	steps := []func() error{
		func() error { return ms.remove(&p.a) },
		func() error { return ms.prepare(ctx, &p.b) },
		func() error { return ms.publish(&p.b) },
		func() error { return ms.remove(&p.c) },
	}
	for _, step := range steps {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("dataplane: sync interrupted: %w", err)
		}
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// remove deletes in reverse creation order: masters before slots, slots
// before reverse NAT and Maglev, backends last.
func (ms *lbMapSet) remove(r *removals) error {
	return first(
		func() error { return deleteAll(ms.services, r.masters) },
		func() error { return deleteAll(ms.services, r.slots) },
		func() error { return deleteAll(ms.revnat, r.revnat) },
		func() error { return deleteAll(ms.maglev, r.maglev) },
		func() error { return deleteAll(ms.names, r.names) },
		func() error { return deleteAll(ms.backends, r.backends) },
	)
}

// prepare writes everything a master entry will point at.
func (ms *lbMapSet) prepare(ctx context.Context, b *additions) error {
	return first(
		func() error { return putAll(ms.backends, b.beKeys, b.beVals) },
		func() error { return ms.resetStats(b.stats) },
		func() error { return putAll(ms.names, b.nmKeys, b.nmVals) },
		func() error { return ms.writeMaglev(ctx, b.maglev) },
	)
}

// publish writes slots and reverse NAT, then the master entries.
func (ms *lbMapSet) publish(b *additions) error {
	return first(
		func() error { return putAll(ms.services, b.slKeys, b.slVals) },
		func() error { return putAll(ms.revnat, b.rnKeys, b.rnVals) },
		func() error { return putAll(ms.services, b.msKeys, b.msVals) },
	)
}

func first(fns ...func() error) error {
	for _, fn := range fns {
		if err := fn(); err != nil {
			return err
		}
	}
	return nil
}

func (ms *lbMapSet) resetStats(ids []uint32) error {
	if len(ids) == 0 {
		return nil
	}
	zero := make([]lbSvcStats, len(ids)*ms.cpus)
	for i := 0; i < len(ids); i += batchChunk {
		j := min(i+batchChunk, len(ids))
		_, err := ms.stats.BatchUpdate(ids[i:j], zero[:(j-i)*ms.cpus], nil)
		if errors.Is(err, ebpf.ErrNotSupported) {
			err = ms.resetStatsEach(ids[i:j])
		}
		if err != nil {
			return fmt.Errorf("reset lb_stats: %w", err)
		}
	}
	return nil
}

func (ms *lbMapSet) resetStatsEach(ids []uint32) error {
	zero := make([]lbSvcStats, ms.cpus)
	for _, id := range ids {
		if err := ms.stats.Update(id, zero, ebpf.UpdateAny); err != nil {
			return err
		}
	}
	return nil
}

// writeMaglev creates or rewrites the groups' Maglev tables. A table is
// rewritten in place: each entry is a valid backend id before and after.
func (ms *lbMapSet) writeMaglev(ctx context.Context, ws []maglevWrite) error {
	for i, w := range ws {
		if i%1024 == 0 && ctx.Err() != nil {
			return fmt.Errorf("dataplane: sync interrupted: %w", ctx.Err())
		}
		if err := ms.writeTable(w); err != nil {
			return fmt.Errorf("write Maglev table of service group %d: %w", w.id, err)
		}
	}
	return nil
}

func (ms *lbMapSet) writeTable(w maglevWrite) error {
	var inner *ebpf.Map
	if !w.fresh {
		if err := ms.maglev.Lookup(w.id, &inner); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			return err
		}
	}
	if inner == nil {
		m, err := ebpf.NewMap(ms.maglevInner)
		if err != nil {
			return err
		}
		defer m.Close()
		if err := m.Update(uint32(0), w.table, ebpf.UpdateAny); err != nil {
			return err
		}
		return ms.maglev.Update(w.id, m, ebpf.UpdateAny)
	}
	defer inner.Close()
	return inner.Update(uint32(0), w.table, ebpf.UpdateAny)
}
