package dns

import (
	"cmp"
	"slices"

	mdns "github.com/miekg/dns"
)

// nameRRs are the records one owner contributes at one name.
type nameRRs struct {
	name string
	rrs  []mdns.RR
}

// recSet collects an owner's records grouped by name, without duplicates.
// Small sets (most owners: a pod, a ClusterIP service) search linearly;
// large ones switch to maps.
type recSet struct {
	list   []nameRRs
	keys   []rrKey
	byName map[string]int
	seen   map[rrKey]struct{}
}

const recSetLinear = 16

func newRecSet() *recSet { return &recSet{} }

func (s *recSet) add(name string, rr mdns.RR) {
	k := keyOf(name, rr)
	if s.seen == nil && len(s.keys) >= recSetLinear {
		s.seen = make(map[rrKey]struct{}, 2*len(s.keys))
		for _, x := range s.keys {
			s.seen[x] = struct{}{}
		}
		s.byName = make(map[string]int, 2*len(s.list))
		for i, nr := range s.list {
			s.byName[nr.name] = i
		}
		s.keys = nil
	}
	if s.seen != nil {
		if _, dup := s.seen[k]; dup {
			return
		}
		s.seen[k] = struct{}{}
	} else {
		if slices.Contains(s.keys, k) {
			return
		}
		s.keys = append(s.keys, k)
	}
	s.listFor(name).rrs = append(s.listFor(name).rrs, rr)
}

func (s *recSet) listFor(name string) *nameRRs {
	if s.byName != nil {
		if i, ok := s.byName[name]; ok {
			return &s.list[i]
		}
		s.byName[name] = len(s.list)
	} else {
		for i := range s.list {
			if s.list[i].name == name {
				return &s.list[i]
			}
		}
	}
	s.list = append(s.list, nameRRs{name: name})
	return &s.list[len(s.list)-1]
}

// deriver turns slim objects into the records they own.
type deriver struct {
	zone string
	ttl  uint32
	pods PodMode
}

func (d deriver) svcName(id nsName) string { return id.name + "." + id.ns + ".svc." + d.zone }

// static are the records the zone has whatever the cluster holds.
func (d deriver) static() []nameRRs {
	s := newRecSet()
	s.add(d.zone, &mdns.NS{Hdr: hdr(d.zone, mdns.TypeNS, d.ttl), Ns: "ns.dns." + d.zone})
	name := "dns-version." + d.zone
	s.add(name, &mdns.TXT{Hdr: hdr(name, mdns.TypeTXT, d.ttl), Txt: []string{SchemaVersion}})
	return s.list
}

// service derives a service's records from it, its endpoint slices and
// the pods whose subdomain names it.
func (d deriver) service(svc *service, eps []*endpointSlice, pods []*pod) []nameRRs {
	s := newRecSet()
	name := d.svcName(svc.id)
	switch svc.kind {
	case svcExternalName:
		if svc.external != "" {
			s.add(name, newCNAME(name, svc.external, d.ttl))
		}
	case svcClusterIP:
		d.clusterIP(s, svc, name)
	case svcHeadless:
		d.headless(s, svc, name, eps)
		d.podHostnames(s, svc, name, pods)
	}
	if svc.id == (nsName{"kube-system", "kube-dns"}) {
		for _, a := range svc.ips {
			s.add("ns.dns."+d.zone, newAddr("ns.dns."+d.zone, a, d.ttl))
		}
	}
	balanceSRV(s.list)
	return s.list
}

func (d deriver) clusterIP(s *recSet, svc *service, name string) {
	for _, a := range svc.ips {
		s.add(name, newAddr(name, a, d.ttl))
		if rev := reverseName(a); rev != "" {
			s.add(rev, newPTR(rev, name, d.ttl))
		}
	}
	for _, p := range svc.ports {
		if p.name != "" {
			srv := "_" + p.name + "._" + p.proto + "." + name
			s.add(srv, newSRV(srv, name, p.port, 100, d.ttl))
		}
	}
}

func (d deriver) headless(s *recSet, svc *service, name string, eps []*endpointSlice) {
	for _, sl := range eps {
		for _, ep := range sl.endpoints {
			if len(ep.addrs) == 0 || !(ep.ready || svc.publishNotReady) {
				continue
			}
			host := ep.hostname
			if host == "" {
				host = dashed(ep.addrs[0])
			}
			target := host + "." + name
			for _, a := range ep.addrs {
				s.add(name, newAddr(name, a, d.ttl))
				s.add(target, newAddr(target, a, d.ttl))
				if rev := reverseName(a); rev != "" {
					s.add(rev, newPTR(rev, target, d.ttl))
				}
			}
			for _, p := range sl.ports {
				srv := "_" + p.name + "._" + p.proto + "." + name
				s.add(srv, newSRV(srv, target, p.port, 100, d.ttl))
			}
		}
	}
}

// podHostnames adds <hostname>.<subdomain>.<ns>.svc.<zone> for pods that
// set both and whose subdomain is this headless service.
func (d deriver) podHostnames(s *recSet, svc *service, name string, pods []*pod) {
	for _, p := range pods {
		if p.hostname == "" || !(p.ready || svc.publishNotReady) {
			continue
		}
		target := p.hostname + "." + name
		for _, a := range p.ips {
			s.add(target, newAddr(target, a, d.ttl))
		}
	}
}

// pod derives a pod's dashed-IP names and the PTR records for its IPs
// (which yield to any service or endpoint PTR at the same address).
func (d deriver) pod(p *pod) []nameRRs {
	if d.pods == PodsDisabled || len(p.ips) == 0 {
		return nil
	}
	s := newRecSet()
	for _, a := range p.ips {
		name := dashed(a) + "." + p.id.ns + ".pod." + d.zone
		s.add(name, newAddr(name, a, d.ttl))
		if rev := reverseName(a); rev != "" && !p.hostNetwork {
			s.add(rev, newPTR(rev, name, d.ttl))
		}
	}
	return s.list
}

// balanceSRV gives the SRV records at each name equal weights summing to
// about 100, and orders every name's records deterministically.
func balanceSRV(list []nameRRs) {
	for _, nr := range list {
		n := 0
		for _, rr := range nr.rrs {
			if rr.Header().Rrtype == mdns.TypeSRV {
				n++
			}
		}
		if n > 1 {
			w := uint16(max(1, 100/n))
			for _, rr := range nr.rrs {
				if srv, ok := rr.(*mdns.SRV); ok {
					srv.Weight = w
				}
			}
		}
	}
	slices.SortFunc(list, func(a, b nameRRs) int { return cmp.Compare(a.name, b.name) })
}
