package dataplane

import "fmt"

// refuseStolen fails groups that claim a frontend of a group out of scope.
func (pl *planner) refuseStolen(want []*wantGroup, failed map[string]bool) []*wantGroup {
	kept := want[:0]
	for _, g := range want {
		if o := pl.foreignOwner(g); o != "" {
			failed[g.name] = true
			pl.fail(g.name, fmt.Errorf("dataplane: service %s: a frontend already belongs to %s; change or delete that one first", g.name, o))
			continue
		}
		kept = append(kept, g)
	}
	return kept
}

func (pl *planner) foreignOwner(g *wantGroup) string {
	for _, f := range g.fronts {
		if fe := pl.st.fronts[f.key]; fe != nil {
			if og := pl.st.byID[fe.owner]; og != nil && !pl.scope[og.name] {
				return og.name
			}
		}
	}
	return ""
}

// candidates are the groups a plan may remove: all, or those in scope.
func (pl *planner) candidates() []*group {
	var out []*group
	if pl.scope == nil {
		for _, g := range pl.st.groups {
			out = append(out, g)
		}
		return out
	}
	for name := range pl.scope {
		if g := pl.st.groups[name]; g != nil {
			out = append(out, g)
		}
	}
	return out
}

// removeGroups deletes candidate groups that are neither desired nor failed.
func (pl *planner) removeGroups(wanted map[string]*wantGroup, failed map[string]bool) {
	for _, g := range pl.candidates() {
		if wanted[g.name] != nil || failed[g.name] {
			continue
		}
		pl.p.delGroups = append(pl.p.delGroups, g.name)
		pl.p.stats.Removed++
		pl.dropGroupData(g, &pl.p.a)
		pl.st.svcIDs.free(g.id)
	}
}

func (pl *planner) dropGroupData(g *group, r *removals) {
	if g.maglevSum != 0 {
		r.maglev = append(r.maglev, g.id)
		pl.used.maglev--
	}
	if g.named {
		r.names = append(r.names, g.id)
		pl.used.names--
	}
	for _, b := range g.backends {
		r.backends = append(r.backends, b.id)
		pl.st.beIDs.free(b.id)
		pl.used.backends--
	}
}

// removeFronts deletes frontends no desired group keeps: those of removed
// groups, those a group no longer lists, those moving to another group.
func (pl *planner) removeFronts(wanted map[string]*wantGroup, failed map[string]bool) {
	owners := map[feKey]string{}
	for _, g := range wanted {
		for _, f := range g.fronts {
			owners[f.key] = g.name
		}
	}
	for _, fe := range pl.frontCandidates(owners) {
		k := fe.key
		og := pl.st.byID[fe.owner]
		if og != nil && failed[og.name] && owners[k] == "" {
			continue // a failed group stays as it is
		}
		if og != nil && owners[k] == og.name {
			continue // still desired by its owner
		}
		pl.dropFront(fe, &pl.p.a)
		pl.p.delFronts = append(pl.p.delFronts, k)
		pl.dropped[k] = true
	}
}

// frontCandidates are all frontends, or those of the groups in scope plus
// ownerless ones (left by a crash) that a desired group claims.
func (pl *planner) frontCandidates(claimed map[feKey]string) []*frontend {
	var out []*frontend
	if pl.scope == nil {
		for _, fe := range pl.st.fronts {
			out = append(out, fe)
		}
		return out
	}
	for _, g := range pl.candidates() {
		for _, k := range g.fronts {
			if fe := pl.st.fronts[k]; fe != nil && fe.owner == g.id {
				out = append(out, fe)
			}
		}
	}
	for k := range claimed {
		if fe := pl.st.fronts[k]; fe != nil && pl.st.byID[fe.owner] == nil {
			out = append(out, fe)
		}
	}
	return out
}

func (pl *planner) dropFront(fe *frontend, r *removals) {
	if fe.master != nil {
		r.masters = append(r.masters, svcKey(fe.key, 0))
		pl.used.services--
	}
	for i, id := range fe.slots {
		if id != 0 {
			r.slots = append(r.slots, svcKey(fe.key, uint16(i+1)))
			pl.used.services--
		}
	}
	if fe.revNat != 0 {
		r.revnat = append(r.revnat, fe.revNat)
		pl.st.revIDs.free(fe.revNat)
		pl.used.revnat--
	}
}

func (pl *planner) removeOrphans() {
	o := &pl.st.orphan
	pl.p.a.revnat = append(pl.p.a.revnat, o.revnat...)
	pl.p.a.maglev = append(pl.p.a.maglev, o.maglev...)
	pl.p.a.names = append(pl.p.a.names, o.names...)
	pl.p.a.backends = append(pl.p.a.backends, o.backends...)
	for _, id := range o.revnat {
		pl.st.revIDs.free(id)
	}
	for _, id := range o.backends {
		pl.st.beIDs.free(id)
	}
	for _, id := range append(append([]uint32{}, o.names...), o.maglev...) {
		if !pl.groupHasID(id) {
			pl.st.svcIDs.free(id)
		}
	}
	pl.used.revnat -= len(o.revnat)
	pl.used.maglev -= len(o.maglev)
	pl.used.names -= len(o.names)
	pl.used.backends -= len(o.backends)
}

func (pl *planner) groupHasID(id uint32) bool {
	return pl.st.byID[id] != nil
}
