package dataplane

import "fmt"

// group plans one desired group: ids, backends, Maglev, frontends.
func (pl *planner) group(w *wantGroup) {
	old := pl.st.groups[w.name]
	if len(w.backends) > 0xffff {
		pl.fail(w.name, fmt.Errorf("dataplane: service %s has %d backends; at most 65535 are supported", w.name, len(w.backends)))
		return
	}
	need := pl.need(w, old)
	if err := pl.fits(w.name, need); err != nil {
		pl.fail(w.name, err)
		return
	}
	ng, writes, err := pl.groupData(w, old)
	if err != nil {
		pl.fail(w.name, err)
		return
	}
	pl.used.add(need)
	for _, f := range w.fronts {
		writes += pl.front(ng, f, w)
	}
	pl.p.setGroups = append(pl.p.setGroups, ng)
	switch {
	case old == nil:
		pl.p.stats.Added++
	case writes > 0:
		pl.p.stats.Updated++
	default:
		pl.p.stats.Unchanged++
	}
}

func (pl *planner) fail(name string, err error) {
	pl.p.errs = append(pl.p.errs, err)
	pl.p.stats.Failed++
}

func (c *capacity) add(o capacity) {
	c.services += o.services
	c.backends += o.backends
	c.revnat += o.revnat
	c.names += o.names
	c.maglev += o.maglev
}

// existing returns the frontend k of group id that survives phase A.
func (pl *planner) existing(k feKey, id uint32) *frontend {
	fe := pl.st.fronts[k]
	if fe == nil || pl.dropped[k] || id == 0 || fe.owner != id {
		return nil
	}
	return fe
}

// need counts the entries w adds on top of what old has (peak usage).
func (pl *planner) need(w *wantGroup, old *group) capacity {
	var n capacity
	var id uint32
	if old == nil || !old.named {
		n.names = 1
	}
	if old != nil {
		id = old.id
	}
	for _, b := range w.backends {
		if old == nil || old.backends[b.key] == nil {
			n.backends++
		}
	}
	if pl.wantMaglev(w) && (old == nil || old.maglevSum == 0) {
		n.maglev = 1
	}
	for _, f := range w.fronts {
		fe := pl.existing(f.key, id)
		if fe == nil || fe.master == nil {
			n.services++
		}
		if fe == nil || fe.revNat == 0 {
			n.revnat++
		}
		for i := range w.backends {
			if fe == nil || i >= len(fe.slots) || fe.slots[i] == 0 {
				n.services++
			}
		}
	}
	return n
}

func (pl *planner) wantMaglev(w *wantGroup) bool {
	return pl.perPacket && len(w.backends) > 0
}

// groupData plans the group's id, name, backends and Maglev table.
func (pl *planner) groupData(w *wantGroup, old *group) (*group, int, error) {
	ng := &group{name: w.name, named: true, affinity: w.affinity, backends: map[beKey]*backendState{}}
	writes := 0
	b := &pl.p.b
	if old != nil {
		ng.id = old.id
	} else {
		id, err := pl.st.svcIDs.alloc()
		if err != nil {
			return nil, 0, fmt.Errorf("dataplane: service %s: %w: %w; raise MaxServices", w.name, ErrMapFull, err)
		}
		ng.id = id
		b.stats = append(b.stats, id)
	}
	if old == nil || !old.named {
		b.nmKeys = append(b.nmKeys, ng.id)
		b.nmVals = append(b.nmVals, nameValue(w.name))
		writes++
	}
	for _, wb := range w.backends {
		bs, changed := pl.backend(old, wb)
		ng.backends[wb.key] = bs
		if changed {
			b.beKeys = append(b.beKeys, bs.id)
			b.beVals = append(b.beVals, backendValue(wb, w.proto, ng.id))
			writes++
		}
	}
	if old != nil {
		for k, bs := range old.backends {
			if ng.backends[k] == nil {
				pl.p.c.backends = append(pl.p.c.backends, bs.id)
				pl.st.beIDs.free(bs.id)
				pl.trail.backends++
				writes++
			}
		}
	}
	writes += pl.maglev(w, old, ng)
	return ng, writes, nil
}

// backend returns the backend's state and whether its entry must be written.
func (pl *planner) backend(old *group, wb wantBackend) (*backendState, bool) {
	if old != nil {
		if ob := old.backends[wb.key]; ob != nil {
			return &backendState{id: ob.id, terminating: wb.terminating}, ob.terminating != wb.terminating
		}
	}
	id, _ := pl.st.beIDs.alloc() // 2^32-1 ids; capacity was checked
	return &backendState{id: id, terminating: wb.terminating}, true
}

func backendValue(wb wantBackend, proto Protocol, svcID uint32) lbBackend {
	v := lbBackend{Addr: addr16(wb.key.addr), Port: htons(wb.key.port), Proto: uint8(proto), SvcId: svcID}
	if wb.terminating {
		v.Flags = backendTerminating
	}
	return v
}

const backendTerminating = 0x1 // BACKEND_F_TERMINATING

func (c *capacity) sub(o capacity) {
	c.services -= o.services
	c.backends -= o.backends
	c.revnat -= o.revnat
	c.names -= o.names
	c.maglev -= o.maglev
}
