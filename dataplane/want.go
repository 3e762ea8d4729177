package dataplane

import (
	"fmt"
	"hash/fnv"
	"net/netip"
	"slices"
	"time"
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

func validate(s *Service) error {
	if s.Namespace == "" || s.Name == "" {
		return fmt.Errorf("dataplane: service %s: namespace and name are required", s)
	}
	if s.Protocol != TCP && s.Protocol != UDP {
		return fmt.Errorf("dataplane: service %s: protocol %s is not supported: use TCP or UDP", s, s.Protocol)
	}
	if s.Port == 0 && (len(s.ClusterIPs) > 0 || len(s.ExternalIPs) > 0) {
		return fmt.Errorf("dataplane: service %s: port 0: set the service port", s)
	}
	for _, a := range append(append([]netip.Addr{}, s.ClusterIPs...), s.ExternalIPs...) {
		if !a.IsValid() {
			return fmt.Errorf("dataplane: service %s: invalid frontend address", s)
		}
	}
	for _, b := range s.Backends {
		if !b.Addr.IsValid() || b.Port == 0 {
			return fmt.Errorf("dataplane: service %s: backend %v: needs an address and a port", s, netip.AddrPortFrom(b.Addr, b.Port))
		}
	}
	if s.AffinityTimeout < 0 {
		return fmt.Errorf("dataplane: service %s: negative affinity timeout", s)
	}
	return nil
}

func affinitySeconds(d time.Duration) uint32 {
	if d <= 0 {
		return 0
	}
	s := (d + time.Second - 1) / time.Second
	if s > 1<<31 {
		s = 1 << 31
	}
	return uint32(s)
}

// groupName is "<namespace>/<name>:<port>/<PROTO>/v4|v6", shortened with a
// hash when it would not fit lb_names (127 bytes).
func groupName(s *Service, v6 bool) string {
	fam := "/v4"
	if v6 {
		fam = "/v6"
	}
	n := s.String() + fam
	if len(n) <= 127 {
		return n
	}
	h := fnv.New64a()
	h.Write([]byte(n))
	return fmt.Sprintf("%s~%016x%s", n[:107], h.Sum64(), fam)
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpFe(a, b feKey) int {
	if c := a.addr.Compare(b.addr); c != 0 {
		return c
	}
	if a.port != b.port {
		return int(a.port) - int(b.port)
	}
	return int(a.proto) - int(b.proto)
}

// servesFamily: a NodePort opens in the families of the service's
// ClusterIPs (its ipFamilies), or of its backends when it has none.
func servesFamily(s *Service, v6 bool) bool {
	addrs := s.ClusterIPs
	if len(addrs) == 0 {
		for _, b := range s.Backends {
			addrs = append(addrs, b.Addr)
		}
	}
	for _, a := range addrs {
		if a.Unmap().Is6() == v6 {
			return true
		}
	}
	return false
}
