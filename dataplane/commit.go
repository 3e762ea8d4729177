package dataplane

// commit advances st to what p wrote.
func (st *state) commit(p *plan) {
	for _, name := range p.delGroups {
		if g := st.groups[name]; g != nil {
			delete(st.byID, g.id)
		}
		delete(st.groups, name)
	}
	for _, g := range p.setGroups {
		st.groups[g.name] = g
		st.byID[g.id] = g
	}
	for _, k := range p.delFronts {
		delete(st.fronts, k)
	}
	for _, f := range p.setFronts {
		st.fronts[f.key] = f
	}
	if p.full {
		st.orphan = orphans{}
	}
	st.services, st.backends, st.revnat = p.final.services, p.final.backends, p.final.revnat
	st.names, st.maglev = p.final.names, p.final.maglev
}

// writes counts the map updates and deletions of p.
func (p *plan) writes() int {
	n := p.a.count() + p.c.count()
	b := &p.b
	return n + len(b.beKeys) + len(b.stats) + len(b.nmKeys) + len(b.maglev) + len(b.slKeys) + len(b.rnKeys) + len(b.msKeys)
}

func (r *removals) count() int {
	return len(r.masters) + len(r.slots) + len(r.revnat) + len(r.maglev) + len(r.names) + len(r.backends)
}
