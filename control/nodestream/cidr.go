package nodestream

import (
	"net/netip"
)

// cidrs cuts a cluster CIDR into node pod CIDRs. It is pure: no store.
type cidrs struct {
	cluster netip.Prefix
	bits    int
}

// count is how many node CIDRs fit.
func (c cidrs) count() int { return 1 << (c.bits - c.cluster.Bits()) }

// nth is the n-th node CIDR (0-based).
func (c cidrs) nth(n int) netip.Prefix {
	b := c.cluster.Addr().As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += uint32(n) << (32 - c.bits)
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), c.bits)
}

// contains reports whether p is one of the node CIDRs.
func (c cidrs) contains(p netip.Prefix) bool {
	return p.Bits() == c.bits && p == p.Masked() && c.cluster.Contains(p.Addr())
}
