package ipam

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"
)

// ErrExhausted is returned when every pod address of the range is owned.
var ErrExhausted = errors.New("ipam: no free address in the pod CIDR")

// Key names one attachment: the runtime's container ID and the interface
// name inside the container (CNI_CONTAINERID, CNI_IFNAME).
type Key struct {
	ContainerID string
	IfName      string
}

// String renders the key as "containerID/ifname". Neither part can contain
// a slash (the CNI spec forbids it in both), so the form is unambiguous.
func (k Key) String() string { return k.ContainerID + "/" + k.IfName }

// ParseKey is the inverse of Key.String.
func ParseKey(s string) (Key, error) {
	id, ifname, ok := strings.Cut(s, "/")
	if !ok || id == "" || ifname == "" {
		return Key{}, fmt.Errorf("ipam: malformed allocation key %q: want containerID/ifname", s)
	}
	return Key{ContainerID: id, IfName: ifname}, nil
}

// Allocation is one owned address.
type Allocation struct {
	Addr netip.Addr
	Key  Key
}

// View is a read-only look at the allocations, as the decision functions
// need it. The Store implements it over a bbolt transaction; tests use a map.
type View interface {
	// AddrOf returns the address k owns, if any.
	AddrOf(k Key) (netip.Addr, bool)
	// Taken reports whether a is owned by anyone.
	Taken(a netip.Addr) bool
	// Last returns the most recently handed-out address (zero if none).
	Last() netip.Addr
}

// Decision is the outcome of Assign.
type Decision struct {
	Addr netip.Addr
	// Existing is true when the key already owned Addr (a repeated ADD).
	Existing bool
}

// Assign decides which address k gets: the one it already owns, otherwise
// the next free address after the last one handed out (round robin, so a
// just-released address is not reused at once and stale ARP or conntrack
// entries for it have time to expire). It is a pure function of its inputs.
func Assign(r Range, v View, k Key) (Decision, error) {
	if a, ok := v.AddrOf(k); ok {
		return Decision{Addr: a, Existing: true}, nil
	}
	a, ok := Next(r, v.Last(), v.Taken)
	if !ok {
		return Decision{}, fmt.Errorf("%w %s: all %d pod addresses are allocated: delete unused pods, run CNI GC, or give the node a larger pod CIDR", ErrExhausted, r, r.Size())
	}
	return Decision{Addr: a}, nil
}

// Next returns the first address of r after last (wrapping around to the
// start of the range) for which taken is false. It looks at each address of
// the range at most once.
func Next(r Range, last netip.Addr, taken func(netip.Addr) bool) (netip.Addr, bool) {
	a := r.First()
	if r.Contains(last) {
		a = wrap(r, last.Next())
	}
	for i := uint32(0); i < r.Size(); i++ {
		if !taken(a) {
			return a, true
		}
		a = wrap(r, a.Next())
	}
	return netip.Addr{}, false
}

func wrap(r Range, a netip.Addr) netip.Addr {
	if !r.Contains(a) {
		return r.First()
	}
	return a
}

// Stale returns the allocations whose key is not in valid, in address
// order: what GC releases.
func Stale(allocs []Allocation, valid []Key) []Allocation {
	keep := make(map[Key]bool, len(valid))
	for _, k := range valid {
		keep[k] = true
	}
	var out []Allocation
	for _, a := range allocs {
		if !keep[a.Key] {
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Addr.Less(out[j].Addr) })
	return out
}
