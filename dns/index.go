package dns

import (
	"cmp"
	"slices"

	mdns "github.com/miekg/dns"
)

const numShards = 256

// index is one published, immutable view of the zone. Queries load it
// once and read it without locks; writers publish a new index that shares
// every shard they did not touch.
type index struct {
	shards [numShards]map[string]*node
	soa    *mdns.SOA
	zone   string
	pods   PodMode
	ttl    uint32
}

// node holds every record at one name, grouped by type. A node without
// records is an empty non-terminal: the name exists because names below
// it do (NODATA, not NXDOMAIN).
type node struct {
	rrs   []mdns.RR
	spans []span
}

type span struct {
	t      uint16
	lo, hi uint32
}

func shardOf(name string) int {
	h := uint32(2166136261)
	for i := 0; i < len(name); i++ {
		h ^= uint32(name[i])
		h *= 16777619
	}
	return int(h % numShards)
}

func (ix *index) node(name string) *node { return ix.shards[shardOf(name)][name] }

// get returns the records of type t; the slice's capacity ends at its
// length so appending to it never writes into the shared node.
func (n *node) get(t uint16) []mdns.RR {
	for _, s := range n.spans {
		if s.t == t {
			return n.rrs[s.lo:s.hi:s.hi]
		}
	}
	return nil
}

func (n *node) all() []mdns.RR { return n.rrs[:len(n.rrs):len(n.rrs)] }

// newNode builds the node for one name from the records its owners
// contribute. Pod PTR records yield to service and endpoint PTR records.
func newNode(st *nameState) *node {
	if st == nil {
		return nil
	}
	svcPTR := false
	total := 0
	for _, o := range st.owners {
		total += len(o.rrs)
		if o.owner.kind != ownerPod && hasType(o.rrs, mdns.TypePTR) {
			svcPTR = true
		}
	}
	if total == 0 && st.ent == 0 {
		return nil
	}
	n := &node{rrs: make([]mdns.RR, 0, total)}
	for _, o := range st.owners {
		for _, rr := range o.rrs {
			if svcPTR && o.owner.kind == ownerPod && rr.Header().Rrtype == mdns.TypePTR {
				continue
			}
			n.rrs = append(n.rrs, rr)
		}
	}
	slices.SortStableFunc(n.rrs, func(a, b mdns.RR) int { return cmp.Compare(a.Header().Rrtype, b.Header().Rrtype) })
	for i, rr := range n.rrs {
		t := rr.Header().Rrtype
		if len(n.spans) == 0 || n.spans[len(n.spans)-1].t != t {
			n.spans = append(n.spans, span{t: t, lo: uint32(i)})
		}
		n.spans[len(n.spans)-1].hi = uint32(i + 1)
	}
	return n
}

func hasType(rrs []mdns.RR, t uint16) bool {
	for _, rr := range rrs {
		if rr.Header().Rrtype == t {
			return true
		}
	}
	return false
}
