package dataplane

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// feKey identifies a frontend: one lb_services master entry.
type feKey struct {
	addr  netip.Addr // unmapped: IPv4 as 4 bytes
	port  uint16
	proto Protocol
}

func (k feKey) String() string {
	return fmt.Sprintf("%s/%s", netip.AddrPortFrom(k.addr, k.port), k.proto)
}

// beKey identifies a backend within its service group.
type beKey struct {
	addr netip.Addr
	port uint16
}

func (k beKey) String() string { return netip.AddrPortFrom(k.addr, k.port).String() }

func (k beKey) less(o beKey) bool {
	if c := k.addr.Compare(o.addr); c != 0 {
		return c < 0
	}
	return k.port < o.port
}

// addr16 is the maps' address form: IPv6, or IPv4-mapped IPv6.
func addr16(a netip.Addr) [16]uint8 {
	return a.As16()
}

func fromAddr16(b [16]uint8) netip.Addr {
	return netip.AddrFrom16(b).Unmap()
}

// htons and ntohs convert between host order and the maps' network-order ports.
func htons(p uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], p)
	return binary.NativeEndian.Uint16(b[:])
}

func ntohs(p uint16) uint16 { return htons(p) }

func svcKey(k feKey, slot uint16) lbSvcKey {
	return lbSvcKey{Addr: addr16(k.addr), Port: htons(k.port), Proto: uint8(k.proto), Slot: slot}
}

func feKeyOf(k *lbSvcKey) feKey {
	return feKey{addr: fromAddr16(k.Addr), port: ntohs(k.Port), proto: Protocol(k.Proto)}
}

func nameValue(name string) lbSvcName {
	var v lbSvcName
	for i := 0; i < len(name) && i < len(v.Name)-1; i++ {
		v.Name[i] = int8(name[i])
	}
	return v
}

func nameString(v *lbSvcName) string {
	b := make([]byte, 0, len(v.Name))
	for _, c := range v.Name {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return string(b)
}
