package dataplane

import (
	"errors"
	"fmt"
)

// ErrMapFull is wrapped by errors for services that did not fit a map.
var ErrMapFull = errors.New("dataplane: map full")

// capacity is the size of each map (from Config).
type capacity struct {
	services, backends, revnat, names, maglev int
}

// plan is one Sync's writes, in three phases executed in order (apply.go):
//
//	A  removals of whole frontends and groups: masters, slots, reverse NAT,
//	   Maglev tables, names, backends (reverse of creation)
//	B  additions and updates: backends, stats reset, names, Maglev tables,
//	   slots, reverse NAT, masters last
//	C  trailing removals of updated groups: surplus slots, Maglev tables,
//	   backends no slot points at any more
type plan struct {
	a, c removals
	b    additions

	// Committed to the state once every write succeeded.
	setGroups []*group
	delGroups []string
	setFronts []*frontend
	delFronts []feKey
	final     capacity // entries per map after all phases

	stats SyncStats
	errs  []error
}

type removals struct {
	masters  []lbSvcKey
	slots    []lbSvcKey
	revnat   []uint32
	maglev   []uint32
	names    []uint32
	backends []uint32
}

type additions struct {
	beKeys []uint32
	beVals []lbBackend
	stats  []uint32 // new group ids whose counters are reset
	nmKeys []uint32
	nmVals []lbSvcName
	maglev []maglevWrite
	slKeys []lbSvcKey
	slVals []lbSvcVal
	rnKeys []uint32
	rnVals []lbRevNat
	msKeys []lbSvcKey
	msVals []lbSvcVal
}

type maglevWrite struct {
	id    uint32
	table []uint32
	sum   uint64
	fresh bool // no inner map yet
}

// planner carries the state a plan is computed against.
type planner struct {
	st        *state
	cap       capacity
	perPacket bool
	maglevM   int
	scope     map[string]bool // nil: full sync; else only these groups change
	p         *plan
	used      capacity // entries after phase A plus what B adds so far
	trail     capacity // entries phase C deletes
	dropped   map[feKey]bool
}

// makePlan diffs the desired groups against st. With a nil scope, want is
// everything (groups not in it are removed); otherwise only the groups
// named in scope are touched (Upsert, Delete). It changes nothing in st but
// the id allocators (a failed apply rebuilds st by re-adoption).
func makePlan(st *state, want []*wantGroup, failed, scope map[string]bool, cp capacity, perPacket bool, maglevM int) *plan {
	pl := &planner{st: st, cap: cp, perPacket: perPacket, maglevM: maglevM, scope: scope, p: &plan{}, dropped: map[feKey]bool{}}
	if scope != nil {
		want = pl.refuseStolen(want, failed)
	}
	wanted := map[string]*wantGroup{}
	for _, g := range want {
		wanted[g.name] = g
	}
	pl.used = capacity{services: st.services, backends: st.backends, revnat: st.revnat, names: st.names, maglev: st.maglev}
	pl.removeGroups(wanted, failed)
	pl.removeFronts(wanted, failed)
	if scope == nil {
		pl.removeOrphans()
	}
	for _, g := range want {
		pl.group(g)
	}
	pl.p.final = pl.used
	pl.p.final.sub(pl.trail)
	return pl.p
}

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
	for _, fe := range pl.frontCandidates() {
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

// frontCandidates are all frontends, or those of the groups in scope.
func (pl *planner) frontCandidates() []*frontend {
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

// fits reports whether need more entries fit, or an ErrMapFull error.
func (pl *planner) fits(name string, need capacity) error {
	check := func(m string, used, add, max int, hint string) error {
		if used+add > max {
			return fmt.Errorf("service %s needs %d more entries in %s (%d of %d used): %w; raise %s", name, add, m, used, max, ErrMapFull, hint)
		}
		return nil
	}
	return errors.Join(
		check("lb_services", pl.used.services, need.services, pl.cap.services, "MaxServices/MaxSlots (--max-services)"),
		check("lb_backends", pl.used.backends, need.backends, pl.cap.backends, "MaxBackends (--max-backends)"),
		check("lb_revnat", pl.used.revnat, need.revnat, pl.cap.revnat, "MaxServices (--max-services)"),
		check("lb_names", pl.used.names, need.names, pl.cap.names, "MaxServices (--max-services)"),
		check("lb_maglev", pl.used.maglev, need.maglev, pl.cap.maglev, "MaxServices (--max-services)"),
	)
}

func (pl *planner) groupHasID(id uint32) bool {
	return pl.st.byID[id] != nil
}
