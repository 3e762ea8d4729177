package dataplane

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
)

// adopt reads the maps back into a state: what a restarted Manager finds in
// the pins, or the truth after a failed Sync. Entries that belong to no
// group (a crash between two writes of a Sync) become orphans, which the
// next Sync deletes.
func adopt(ms *lbMapSet, maxServices, maglevM int) (*state, error) {
	st := newState(maxServices)
	byID := map[uint32]*group{}
	steps := []func() error{
		func() error { return adoptNames(ms, st, byID) },
		func() error { return adoptBackends(ms, st, byID) },
		func() error { return adoptServices(ms, st, byID) },
		func() error { return adoptRevNat(ms, st) },
		func() error { return adoptMaglev(ms, st, byID, maglevM) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, fmt.Errorf("dataplane: adopt pinned state: %w", err)
		}
	}
	return st, nil
}

func adoptNames(ms *lbMapSet, st *state, byID map[uint32]*group) error {
	return readAll(ms.names, func(k *uint32, v *lbSvcName) {
		st.names++
		st.svcIDs.take(*k)
		name := nameString(v)
		if _, dup := st.groups[name]; dup || name == "" {
			st.orphan.names = append(st.orphan.names, *k)
			return
		}
		g := &group{name: name, id: *k, named: true, backends: map[beKey]*backendState{}}
		st.groups[name] = g
		byID[*k] = g
		st.byID[*k] = g
	})
}

func adoptBackends(ms *lbMapSet, st *state, byID map[uint32]*group) error {
	return readAll(ms.backends, func(k *uint32, v *lbBackend) {
		st.backends++
		st.beIDs.take(*k)
		g := byID[v.SvcId]
		bk := beKey{addr: fromAddr16(v.Addr), port: ntohs(v.Port)}
		if g == nil || g.backends[bk] != nil {
			st.orphan.backends = append(st.orphan.backends, *k)
			return
		}
		g.backends[bk] = &backendState{id: *k, terminating: v.Flags&backendTerminating != 0}
	})
}

func adoptServices(ms *lbMapSet, st *state, byID map[uint32]*group) error {
	beOwner := map[uint32]uint32{}
	for _, g := range byID {
		for _, b := range g.backends {
			beOwner[b.id] = g.id
		}
	}
	err := readAll(ms.services, func(k *lbSvcKey, v *lbSvcVal) {
		st.services++
		fk := feKeyOf(k)
		fe := st.fronts[fk]
		if fe == nil {
			fe = &frontend{key: fk}
			st.fronts[fk] = fe
		}
		if k.Slot == 0 {
			m := *v
			fe.master = &m
			fe.owner = v.SvcId
			if g := byID[v.SvcId]; g != nil {
				g.affinity = v.AffinityTimeout
			}
			return
		}
		for len(fe.slots) < int(k.Slot) {
			fe.slots = append(fe.slots, 0)
		}
		fe.slots[k.Slot-1] = v.BackendId
		if fe.master == nil && fe.owner == 0 {
			fe.owner = beOwner[v.BackendId]
		}
	})
	for _, fe := range st.fronts {
		if g := byID[fe.owner]; g != nil {
			g.fronts = append(g.fronts, fe.key)
		} else {
			fe.owner = 0 // its group is gone: the next Sync deletes it
		}
	}
	return err
}

func adoptRevNat(ms *lbMapSet, st *state) error {
	byRev := map[uint32]*frontend{}
	for _, fe := range st.fronts {
		if fe.master != nil {
			byRev[fe.master.RevNatId] = fe
		}
	}
	return readAll(ms.revnat, func(k *uint32, v *lbRevNat) {
		st.revnat++
		st.revIDs.take(*k)
		fe := byRev[*k]
		if fe == nil || fe.key.addr != fromAddr16(v.Addr) || fe.key.port != ntohs(v.Port) {
			st.orphan.revnat = append(st.orphan.revnat, *k)
			return
		}
		fe.revNat = *k
	})
}

// adoptMaglev records a checksum of each table, so an unchanged table is
// not rewritten, and checks the table size matches the configuration.
func adoptMaglev(ms *lbMapSet, st *state, byID map[uint32]*group, m int) error {
	var id, innerID uint32
	it := ms.maglev.Iterate()
	for it.Next(&id, &innerID) {
		st.maglev++
		st.svcIDs.take(id)
		sum, err := tableSumOf(ebpf.MapID(innerID), m)
		if err != nil {
			return err
		}
		if g := byID[id]; g != nil {
			g.maglevSum = sum
		} else {
			st.orphan.maglev = append(st.orphan.maglev, id)
		}
	}
	return it.Err()
}

// tableSumOf reads one table; m == 0 (dump) only notes that it exists.
func tableSumOf(id ebpf.MapID, m int) (uint64, error) {
	if m == 0 {
		return 1, nil
	}
	inner, err := ebpf.NewMapFromID(id)
	if err != nil {
		return 0, fmt.Errorf("open Maglev table %d: %w", id, err)
	}
	defer inner.Close()
	if int(inner.ValueSize()) != 4*m {
		return 0, fmt.Errorf("pinned Maglev tables have %d entries, the configuration says %d: keep --maglev-size %d or run --cleanup (drops connections)", inner.ValueSize()/4, m, inner.ValueSize()/4)
	}
	table := make([]uint32, m)
	if err := inner.Lookup(uint32(0), table); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
		return 0, fmt.Errorf("read Maglev table %d: %w", id, err)
	}
	return tableSum(table), nil
}
