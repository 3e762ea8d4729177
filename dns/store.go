package dns

import (
	"cmp"
	"maps"
	"slices"

	mdns "github.com/miekg/dns"
)

// store is the writer's side: slim objects, the records each owner
// contributes, and per name who contributes what. Only the goroutine
// holding Server.mu touches it; queries read the published index instead.
type store struct {
	d        deriver
	services map[nsName]*service
	slices   map[nsName]*endpointSlice
	bySvc    map[nsName]map[string]*endpointSlice // service -> slice name -> slice
	pods     map[nsName]*pod
	bySub    map[nsName]map[string]*pod // {ns, subdomain} -> pod name -> pod
	contrib  map[owner][]nameRRs
	names    map[string]*nameState
	records  int
}

type ownerKind uint8

const (
	ownerStatic ownerKind = iota
	ownerService
	ownerPod
)

type owner struct {
	kind ownerKind
	id   nsName
}

type ownerRRs struct {
	owner owner
	rrs   []mdns.RR
}

// nameState is everything known about one name: the records of each owner
// and how many contributed names lie below it (ent > 0 makes it exist).
type nameState struct {
	owners []ownerRRs
	ent    int32
}

func newStore(d deriver) *store {
	st := &store{
		d:        d,
		services: map[nsName]*service{},
		slices:   map[nsName]*endpointSlice{},
		bySvc:    map[nsName]map[string]*endpointSlice{},
		pods:     map[nsName]*pod{},
		bySub:    map[nsName]map[string]*pod{},
		contrib:  map[owner][]nameRRs{},
		names:    map[string]*nameState{},
	}
	st.setOwner(owner{kind: ownerStatic}, d.static(), nil)
	return st
}

// refresh re-derives the given owners and records which names changed.
func (st *store) refresh(svcs, pods map[nsName]struct{}, dirty map[string]struct{}) {
	for id := range svcs {
		var list []nameRRs
		if svc := st.services[id]; svc != nil {
			list = st.d.service(svc, st.slicesOf(id), st.podsOf(id))
		}
		st.setOwner(owner{ownerService, id}, list, dirty)
	}
	for id := range pods {
		var list []nameRRs
		if p := st.pods[id]; p != nil {
			list = st.d.pod(p)
		}
		st.setOwner(owner{ownerPod, id}, list, dirty)
	}
}

func (st *store) slicesOf(svc nsName) []*endpointSlice {
	m := st.bySvc[svc]
	out := slices.Collect(maps.Values(m))
	slices.SortFunc(out, func(a, b *endpointSlice) int { return cmp.Compare(a.id.name, b.id.name) })
	return out
}

func (st *store) podsOf(svc nsName) []*pod {
	out := slices.Collect(maps.Values(st.bySub[svc]))
	slices.SortFunc(out, func(a, b *pod) int { return cmp.Compare(a.id.name, b.id.name) })
	return out
}

// setOwner replaces the records of o. dirty (when not nil) collects every
// name whose node must be rebuilt.
func (st *store) setOwner(o owner, list []nameRRs, dirty map[string]struct{}) {
	for _, nr := range st.contrib[o] {
		st.removeFrom(o, nr, dirty)
	}
	for _, nr := range list {
		st.addTo(o, nr, dirty)
	}
	if len(list) == 0 {
		delete(st.contrib, o)
	} else {
		st.contrib[o] = list
	}
}

func (st *store) addTo(o owner, nr nameRRs, dirty map[string]struct{}) {
	ns := st.names[nr.name]
	if ns == nil {
		ns = &nameState{}
		st.names[nr.name] = ns
	}
	ns.owners = append(ns.owners, ownerRRs{o, nr.rrs})
	st.records += len(nr.rrs)
	mark(dirty, nr.name)
	st.ancestors(nr.name, 1, dirty)
}

func (st *store) removeFrom(o owner, nr nameRRs, dirty map[string]struct{}) {
	ns := st.names[nr.name]
	if ns == nil {
		return
	}
	ns.owners = slices.DeleteFunc(ns.owners, func(x ownerRRs) bool { return x.owner == o })
	st.records -= len(nr.rrs)
	mark(dirty, nr.name)
	st.ancestors(nr.name, -1, dirty)
	if len(ns.owners) == 0 && ns.ent == 0 {
		delete(st.names, nr.name)
	}
}

// ancestors adjusts the empty-non-terminal count of every ancestor of
// name inside the zone, marking those that start or stop existing.
func (st *store) ancestors(name string, delta int32, dirty map[string]struct{}) {
	if !inZone(name, st.d.zone) {
		return
	}
	for a := parent(name); a != "" && inZone(a, st.d.zone); a = parent(a) {
		ns := st.names[a]
		if ns == nil {
			ns = &nameState{}
			st.names[a] = ns
		}
		ns.ent += delta
		if (delta > 0 && ns.ent == 1) || (delta < 0 && ns.ent == 0) {
			mark(dirty, a)
		}
		if ns.ent == 0 && len(ns.owners) == 0 {
			delete(st.names, a)
		}
	}
}

func mark(dirty map[string]struct{}, name string) {
	if dirty != nil {
		dirty[name] = struct{}{}
	}
}
