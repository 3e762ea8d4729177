package dataplane

import "fmt"

// state is the Manager's picture of what is in the maps. It is built by
// adopt (from the pinned maps) and advanced by each successful Sync; after
// a failed Sync it is rebuilt from the maps, which are the truth.
type state struct {
	groups map[string]*group   // by name
	byID   map[uint32]*group   // the same groups by id
	fronts map[feKey]*frontend // every frontend with a master or slot entry
	orphan orphans             // entries of no known group, deleted by the next Sync

	svcIDs *idAlloc // service group ids: lb_stats index, Maglev key
	revIDs *idAlloc // reverse-NAT ids, one per frontend
	beIDs  *idAlloc // backend ids

	services, backends, revnat, names, maglev int // entries per map
}

// group is one service port in one address family.
type group struct {
	name     string
	id       uint32
	named    bool // lb_names entry present
	affinity uint32
	backends map[beKey]*backendState
	fronts   []feKey // its frontends (check frontend.owner: a failed group's list may be stale)
	// maglevSum is a checksum of the Maglev table in the maps; 0 = none.
	maglevSum uint64
}

type backendState struct {
	id          uint32
	terminating bool
}

// frontend is one lb_services master entry and its slots.
type frontend struct {
	key    feKey
	owner  uint32 // group id (0: unknown, delete)
	master *lbSvcVal
	revNat uint32   // 0: no lb_revnat entry
	slots  []uint32 // slots[i] is slot i+1's backend id; 0 = no entry
}

// orphans are map entries adoption could not attribute to a group.
type orphans struct {
	backends []uint32
	revnat   []uint32
	names    []uint32
	maglev   []uint32
}

func newState(maxServices int) *state {
	return &state{
		groups: map[string]*group{},
		byID:   map[uint32]*group{},
		fronts: map[feKey]*frontend{},
		svcIDs: newIDAlloc(uint32(maxServices)),
		revIDs: newIDAlloc(uint32(maxServices)),
		beIDs:  newIDAlloc(1<<32 - 1),
	}
}

// idAlloc hands out ids in [1, max] round-robin, so a freed id is reused
// as late as possible (stale conntrack entries must not meet a new owner).
type idAlloc struct {
	max  uint32
	next uint32
	used map[uint32]struct{}
}

func newIDAlloc(max uint32) *idAlloc {
	return &idAlloc{max: max, next: 1, used: map[uint32]struct{}{}}
}

func (a *idAlloc) take(id uint32) {
	a.used[id] = struct{}{}
	if id >= a.next && id < a.max {
		a.next = id + 1
	}
}

func (a *idAlloc) alloc() (uint32, error) {
	if uint64(len(a.used)) >= uint64(a.max) {
		return 0, fmt.Errorf("all %d ids in use", a.max)
	}
	for {
		id := a.next
		if a.next == a.max {
			a.next = 1
		} else {
			a.next++
		}
		if _, ok := a.used[id]; !ok {
			a.used[id] = struct{}{}
			return id, nil
		}
	}
}

func (a *idAlloc) free(id uint32) { delete(a.used, id) }
