package dataplane

import (
	"context"
	"errors"
	"fmt"
	"sync"

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

// Maglev tables live in lb_maglev, a hash of maps: one inner array per
// service group. Inserting an inner map makes the kernel wait for an RCU
// grace period (maybe_wait_bpf_programs) before the syscall returns:
// once per BPF_MAP_UPDATE_BATCH since Linux 6.7, once per element before.
// A first sync inserts one table per group, so the new tables go in
// batches of maglevChunk, maglevWorkers batches at a time: concurrent
// waiters share grace periods, which cuts the wait on every kernel.
// Rewriting an existing table changes the inner map in place and waits
// for nothing.
const (
	maglevChunk   = 128
	maglevWorkers = 16
)

// writeMaglev creates or rewrites the groups' Maglev tables. A table is
// rewritten in place: each entry is a valid backend id before and after.
// A new table is filled before it is inserted.
func (ms *lbMapSet) writeMaglev(ctx context.Context, ws []maglevWrite) error {
	var fresh []maglevWrite
	for i, w := range ws {
		if i%1024 == 0 && ctx.Err() != nil {
			return fmt.Errorf("dataplane: sync interrupted: %w", ctx.Err())
		}
		if !w.fresh {
			done, err := ms.rewriteTable(w)
			if err != nil {
				return fmt.Errorf("write Maglev table of service group %d: %w", w.id, err)
			}
			if done {
				continue
			}
		}
		fresh = append(fresh, w)
	}
	return ms.insertTables(ctx, fresh)
}

// rewriteTable writes w's table into the group's inner map; false when the
// group has none yet.
func (ms *lbMapSet) rewriteTable(w maglevWrite) (bool, error) {
	var inner *ebpf.Map
	if err := ms.maglev.Lookup(w.id, &inner); errors.Is(err, ebpf.ErrKeyNotExist) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	defer inner.Close()
	return true, inner.Update(uint32(0), w.table, ebpf.UpdateAny)
}

// insertTables creates, fills and inserts the inner maps of ws, in
// parallel batches (see maglevChunk).
func (ms *lbMapSet) insertTables(ctx context.Context, ws []maglevWrite) error {
	if len(ws) == 0 {
		return nil
	}
	chunks := make(chan []maglevWrite)
	errs := make([]error, maglevWorkers)
	var wg sync.WaitGroup
	for w := range min(maglevWorkers, (len(ws)+maglevChunk-1)/maglevChunk) {
		wg.Go(func() {
			for c := range chunks {
				if errs[w] == nil {
					errs[w] = ms.insertChunk(c)
				}
			}
		})
	}
	var err error
	for i := 0; i < len(ws); i += maglevChunk {
		if err = ctx.Err(); err != nil {
			err = fmt.Errorf("dataplane: sync interrupted: %w", err)
			break
		}
		chunks <- ws[i:min(i+maglevChunk, len(ws))]
	}
	close(chunks)
	wg.Wait()
	return errors.Join(append(errs, err)...)
}

// insertChunk creates and fills one inner map per write, then inserts
// them with one batch update (element by element where batches of a hash
// of maps are not supported).
func (ms *lbMapSet) insertChunk(ws []maglevWrite) error {
	inners := make([]*ebpf.Map, 0, len(ws))
	defer func() {
		for _, m := range inners {
			m.Close()
		}
	}()
	keys := make([]uint32, len(ws))
	fds := make([]uint32, len(ws))
	for i, w := range ws {
		m, err := ebpf.NewMap(ms.maglevInner)
		if err != nil {
			return fmt.Errorf("create the Maglev table of service group %d: %w", w.id, err)
		}
		inners = append(inners, m)
		if err := m.Update(uint32(0), w.table, ebpf.UpdateAny); err != nil {
			return fmt.Errorf("fill the Maglev table of service group %d: %w", w.id, err)
		}
		keys[i], fds[i] = w.id, uint32(m.FD())
	}
	_, err := ms.maglev.BatchUpdate(keys, fds, nil)
	if errors.Is(err, ebpf.ErrNotSupported) {
		for i := range keys {
			if err = ms.maglev.Update(keys[i], inners[i], ebpf.UpdateAny); err != nil {
				break
			}
		}
	}
	if err != nil {
		return fmt.Errorf("insert %d Maglev tables (service groups %d..): %w", len(ws), keys[0], err)
	}
	return nil
}
