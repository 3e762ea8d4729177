package dataplane

import (
	"fmt"
	"net/netip"
	"slices"
)

// wantGroup is the desired state of one service port in one family.
type wantGroup struct {
	name     string
	proto    Protocol
	affinity uint32 // seconds
	fronts   []wantFront
	backends []wantBackend // slot order: ready, then terminating, each sorted
	ready    int
}

type wantFront struct {
	key   feKey
	flags uint16
}

type wantBackend struct {
	key         beKey
	terminating bool
}

// Frontend flags, as SVC_F_* in bpf/include/lb.h.
const (
	flagClusterIP uint16 = 0x1
	flagExternal  uint16 = 0x2
	flagNodePort  uint16 = 0x4
)

// buildWant turns Desired into groups sorted by name. Services that are
// invalid or claim another service's frontend are reported in failed (by
// group name) and in errs; the caller leaves their current state alone.
func buildWant(d *Desired, nodeIPs []netip.Addr) (groups []*wantGroup, failed map[string]bool, errs []error) {
	failed = map[string]bool{}
	seen := map[string]bool{}
	for i := range d.Services {
		s := &d.Services[i]
		if err := validate(s); err != nil {
			failed[groupName(s, false)] = true
			failed[groupName(s, true)] = true
			errs = append(errs, err)
			continue
		}
		for _, v6 := range []bool{false, true} {
			g := wantOf(s, v6, nodeIPs)
			if g == nil {
				continue
			}
			if seen[g.name] {
				failed[g.name] = true
				errs = append(errs, fmt.Errorf("dataplane: service %s listed twice: merge its entries", s))
				continue
			}
			seen[g.name] = true
			groups = append(groups, g)
		}
	}
	slices.SortFunc(groups, func(a, b *wantGroup) int { return cmpString(a.name, b.name) })
	owner := map[feKey]string{}
	kept := groups[:0]
	for _, g := range groups {
		if err := claimFronts(g, owner); err != nil {
			failed[g.name] = true
			errs = append(errs, err)
			continue
		}
		kept = append(kept, g)
	}
	return kept, failed, errs
}

func claimFronts(g *wantGroup, owner map[feKey]string) error {
	for _, f := range g.fronts {
		if o, ok := owner[f.key]; ok {
			return fmt.Errorf("dataplane: service %s: frontend %s already belongs to %s; give one of them another address or port", g.name, f.key, o)
		}
	}
	for _, f := range g.fronts {
		owner[f.key] = g.name
	}
	return nil
}

// wantOf builds the group of s for one family; nil when s has no frontend there.
func wantOf(s *Service, v6 bool, nodeIPs []netip.Addr) *wantGroup {
	g := &wantGroup{name: groupName(s, v6), proto: s.Protocol, affinity: affinitySeconds(s.AffinityTimeout)}
	add := func(a netip.Addr, port uint16, flags uint16) {
		a = a.Unmap()
		if a.Is6() != v6 {
			return
		}
		k := feKey{addr: a, port: port, proto: s.Protocol}
		for i := range g.fronts {
			if g.fronts[i].key == k {
				g.fronts[i].flags |= flags
				return
			}
		}
		g.fronts = append(g.fronts, wantFront{key: k, flags: flags})
	}
	for _, a := range s.ClusterIPs {
		add(a, s.Port, flagClusterIP)
	}
	for _, a := range s.ExternalIPs {
		add(a, s.Port, flagExternal)
	}
	if s.NodePort != 0 && servesFamily(s, v6) {
		for _, a := range nodeIPs {
			add(a, s.NodePort, flagNodePort)
		}
	}
	if len(g.fronts) == 0 {
		return nil
	}
	slices.SortFunc(g.fronts, func(a, b wantFront) int { return cmpFe(a.key, b.key) })
	g.backends, g.ready = wantBackends(s.Backends, v6)
	return g
}

func wantBackends(bs []Backend, v6 bool) ([]wantBackend, int) {
	state := map[beKey]bool{} // key -> terminating
	for _, b := range bs {
		a := b.Addr.Unmap()
		if a.Is6() != v6 {
			continue
		}
		k := beKey{addr: a, port: b.Port}
		if term, ok := state[k]; !ok || term {
			state[k] = b.Terminating
		}
	}
	out := make([]wantBackend, 0, len(state))
	ready := 0
	for k, term := range state {
		out = append(out, wantBackend{key: k, terminating: term})
		if !term {
			ready++
		}
	}
	slices.SortFunc(out, func(a, b wantBackend) int {
		if a.terminating != b.terminating {
			if a.terminating {
				return 1
			}
			return -1
		}
		if a.key.less(b.key) {
			return -1
		}
		if b.key.less(a.key) {
			return 1
		}
		return 0
	})
	return out, ready
}
