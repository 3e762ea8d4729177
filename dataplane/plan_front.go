package dataplane

// The per-frontend part of planning: Maglev tables, slots, reverse NAT and
// master entries.

// maglev plans the group's Maglev table: written when its content
// changes, removed when the per-packet path is off or no backend is left.
func (pl *planner) maglev(w *wantGroup, old *group, ng *group) int {
	oldSum := uint64(0)
	if old != nil {
		oldSum = old.maglevSum
	}
	if !pl.wantMaglev(w) {
		if oldSum != 0 {
			pl.p.c.maglev = append(pl.p.c.maglev, ng.id)
			pl.trail.maglev++
			return 1
		}
		return 0
	}
	table := maglevTable(activeBackends(w, ng), pl.maglevM)
	ng.maglevSum = tableSum(table)
	if ng.maglevSum == oldSum {
		return 0
	}
	pl.p.b.maglev = append(pl.p.b.maglev, maglevWrite{id: ng.id, table: table, sum: ng.maglevSum, fresh: oldSum == 0})
	return 1
}

// activeBackends are the backends new flows may use, in slot order.
func activeBackends(w *wantGroup, ng *group) []maglevBackend {
	n := w.ready
	start := 0
	if n == 0 {
		start, n = 0, len(w.backends)
	}
	out := make([]maglevBackend, 0, n)
	for _, b := range w.backends[start : start+n] {
		out = append(out, maglevBackend{name: b.key.String(), id: ng.backends[b.key].id})
	}
	return out
}

// front plans one frontend of ng: slots, reverse NAT, master. It returns
// the number of writes.
func (pl *planner) front(ng *group, f wantFront, w *wantGroup) int {
	fe := pl.existing(f.key, ng.id)
	nf := &frontend{key: f.key, owner: ng.id, slots: make([]uint32, len(w.backends))}
	b := &pl.p.b
	writes := 0
	for i, wb := range w.backends {
		id := ng.backends[wb.key].id
		nf.slots[i] = id
		if fe == nil || i >= len(fe.slots) || fe.slots[i] != id {
			b.slKeys = append(b.slKeys, svcKey(f.key, uint16(i+1)))
			b.slVals = append(b.slVals, lbSvcVal{BackendId: id})
			writes++
		}
	}
	if fe != nil {
		for i := len(w.backends); i < len(fe.slots); i++ {
			if fe.slots[i] != 0 {
				pl.p.c.slots = append(pl.p.c.slots, svcKey(f.key, uint16(i+1)))
				pl.trail.services++
				writes++
			}
		}
	}
	if fe != nil && fe.revNat != 0 {
		nf.revNat = fe.revNat
	} else {
		id, _ := pl.st.revIDs.alloc() // bounded by MaxServices, checked by fits
		nf.revNat = id
		b.rnKeys = append(b.rnKeys, id)
		b.rnVals = append(b.rnVals, lbRevNat{Addr: addr16(f.key.addr), Port: htons(f.key.port), SvcId: ng.id})
		writes++
	}
	m := lbSvcVal{SvcId: ng.id, RevNatId: nf.revNat, AffinityTimeout: w.affinity,
		Count: uint16(w.ready), TermCount: uint16(len(w.backends) - w.ready), Flags: f.flags}
	nf.master = &m
	if fe == nil || fe.master == nil || *fe.master != m {
		b.msKeys = append(b.msKeys, svcKey(f.key, 0))
		b.msVals = append(b.msVals, m)
		writes++
	}
	pl.p.setFronts = append(pl.p.setFronts, nf)
	ng.fronts = append(ng.fronts, f.key)
	return writes
}
