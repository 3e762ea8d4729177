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
	full      bool     // a full sync: orphans were deleted too

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
		pl.p.full = true
	}
	for _, g := range want {
		pl.group(g)
	}
	pl.p.final = pl.used
	pl.p.final.sub(pl.trail)
	return pl.p
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
