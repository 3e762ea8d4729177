package dns

import (
	"strings"

	mdns "github.com/miekg/dns"
)

// maxChase bounds CNAME chains followed inside the zone.
const maxChase = 8

// result is an answer from the zone before it becomes a message.
type result struct {
	rcode          int
	ans, ns, extra []mdns.RR
	// chase is a CNAME target outside the zone that the forwarder still has
	// to resolve for the same type.
	chase string
}

// resolve answers a lowercase name inside the zone.
func (ix *index) resolve(name string, qtype uint16) result {
	var res result
	for range maxChase {
		n := ix.lookup(name)
		if n == nil {
			res.rcode = mdns.RcodeNameError
			res.ns = []mdns.RR{ix.soa}
			return res
		}
		if c := n.get(mdns.TypeCNAME); len(c) > 0 && qtype != mdns.TypeCNAME && qtype != mdns.TypeANY {
			res.ans = append(res.ans, c...)
			target := c[0].(*mdns.CNAME).Target
			if !inZone(target, ix.zone) {
				res.chase = target
				return res
			}
			name = target
			continue
		}
		rrs := ix.records(n, name, qtype)
		if len(rrs) == 0 {
			res.ns = []mdns.RR{ix.soa}
			return res
		}
		if res.ans == nil {
			res.ans = rrs
		} else {
			res.ans = append(res.ans, rrs...)
		}
		if qtype == mdns.TypeSRV {
			res.extra = ix.targets(rrs)
		}
		return res
	}
	res.rcode = mdns.RcodeServerFailure // a CNAME loop inside the zone
	return res
}

func (ix *index) records(n *node, name string, qtype uint16) []mdns.RR {
	apex := name == ix.zone
	switch {
	case qtype == mdns.TypeSOA && apex:
		return []mdns.RR{ix.soa}
	case qtype == mdns.TypeANY && apex:
		return append([]mdns.RR{ix.soa}, n.all()...)
	case qtype == mdns.TypeANY:
		return n.all()
	}
	return n.get(qtype)
}

// targets returns the addresses of SRV targets for the additional section.
func (ix *index) targets(srvs []mdns.RR) []mdns.RR {
	var extra []mdns.RR
	last := ""
	for _, rr := range srvs {
		t := rr.(*mdns.SRV).Target
		if t == last {
			continue
		}
		last = t
		if n := ix.node(t); n != nil {
			extra = append(extra, n.get(mdns.TypeA)...)
			extra = append(extra, n.get(mdns.TypeAAAA)...)
		}
	}
	return extra
}

// lookup finds the node of a name, synthesizing pod names in insecure mode.
func (ix *index) lookup(name string) *node {
	if n := ix.node(name); n != nil {
		return n
	}
	if ix.pods != PodsInsecure {
		return nil
	}
	rest, ok := strings.CutSuffix(name, ".pod."+ix.zone)
	if !ok {
		if name == "pod."+ix.zone {
			return &node{}
		}
		return nil
	}
	label, ns, two := strings.Cut(rest, ".")
	if !two {
		return &node{} // <ns>.pod.<zone> exists: names lie below it
	}
	if strings.Contains(ns, ".") {
		return nil
	}
	a, ok := undash(label)
	if !ok {
		return nil
	}
	return newNode(&nameState{owners: []ownerRRs{{rrs: []mdns.RR{newAddr(name, a, ix.ttl)}}}})
}
