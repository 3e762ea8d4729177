package ipam

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// Range is the address pool carved from one IPv4 pod CIDR. For 10.244.1.0/24
// the network is 10.244.1.0, the gateway 10.244.1.1, the broadcast
// 10.244.1.255, and pods get 10.244.1.2 to 10.244.1.254.
type Range struct {
	prefix netip.Prefix
}

// NewRange validates a pod CIDR and returns its pool. The prefix must be
// IPv4, have no host bits set and leave at least one usable address (/30 or
// larger).
func NewRange(p netip.Prefix) (Range, error) {
	if !p.IsValid() || !p.Addr().Is4() {
		return Range{}, fmt.Errorf("ipam: pod CIDR %s is not an IPv4 prefix: IPv6 pod networks are not supported yet", p)
	}
	if p.Masked() != p {
		return Range{}, fmt.Errorf("ipam: pod CIDR %s has host bits set: use %s", p, p.Masked())
	}
	if p.Bits() > 30 {
		return Range{}, fmt.Errorf("ipam: pod CIDR %s is too small: it needs a network, a gateway, a broadcast and one pod address (use /30 or larger)", p)
	}
	return Range{prefix: p}, nil
}

// ParseRange is NewRange of a CIDR string such as "10.244.1.0/24".
func ParseRange(s string) (Range, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return Range{}, fmt.Errorf("ipam: parse pod CIDR %q: %w", s, err)
	}
	return NewRange(p)
}

// Prefix returns the pod CIDR.
func (r Range) Prefix() netip.Prefix { return r.prefix }

// String returns the pod CIDR in CIDR notation.
func (r Range) String() string { return r.prefix.String() }

// Gateway is the first address after the network address. Pods route
// through it; it is never allocated.
func (r Range) Gateway() netip.Addr { return r.Network().Next() }

// Network is the network address of the pod CIDR.
func (r Range) Network() netip.Addr { return r.prefix.Addr() }

// Broadcast is the last address of the pod CIDR.
func (r Range) Broadcast() netip.Addr {
	return fromUint32(toUint32(r.Network()) | (1<<(32-r.prefix.Bits()) - 1))
}

// First is the lowest address handed to pods.
func (r Range) First() netip.Addr { return r.Gateway().Next() }

// Last is the highest address handed to pods.
func (r Range) Last() netip.Addr { return r.Broadcast().Prev() }

// Size is the number of addresses handed to pods.
func (r Range) Size() uint32 { return uint32(1)<<(32-r.prefix.Bits()) - 3 }

// Contains reports whether a is one of the addresses handed to pods.
func (r Range) Contains(a netip.Addr) bool {
	return a.Is4() && r.prefix.Contains(a) && a != r.Network() && a != r.Gateway() && a != r.Broadcast()
}

func toUint32(a netip.Addr) uint32 {
	b := a.As4()
	return binary.BigEndian.Uint32(b[:])
}

func fromUint32(v uint32) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], v)
	return netip.AddrFrom4(b)
}
