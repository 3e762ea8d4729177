package dataplane

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// Hand-built Ethernet/IPv4|IPv6/TCP|UDP frames for prog.Run tests, with
// checksum helpers to verify what the programs rewrote.

type frame struct {
	src, dst        netip.AddrPort
	proto           Protocol
	tcpFlags        uint8 // TCP only
	payload         []byte
	zeroUDPChecksum bool
}

const (
	tcSyn = 0x02
	tcAck = 0x10
	tcFin = 0x01
)

func (f frame) bytes() []byte {
	l4 := f.l4()
	var l3 []byte
	v6 := f.src.Addr().Is6()
	if v6 {
		l3 = make([]byte, 40)
		l3[0] = 0x60
		binary.BigEndian.PutUint16(l3[4:], uint16(len(l4)))
		l3[6] = uint8(f.proto)
		l3[7] = 64
		s, d := f.src.Addr().As16(), f.dst.Addr().As16()
		copy(l3[8:], s[:])
		copy(l3[24:], d[:])
	} else {
		l3 = make([]byte, 20)
		l3[0] = 0x45
		binary.BigEndian.PutUint16(l3[2:], uint16(20+len(l4)))
		l3[8] = 64
		l3[9] = uint8(f.proto)
		s, d := f.src.Addr().As4(), f.dst.Addr().As4()
		copy(l3[12:], s[:])
		copy(l3[16:], d[:])
		binary.BigEndian.PutUint16(l3[10:], ^csum(l3, 0))
	}
	if !(f.proto == UDP && f.zeroUDPChecksum) {
		binary.BigEndian.PutUint16(l4[csumOff(f.proto):], ^csum(l4, pseudo(f.src.Addr(), f.dst.Addr(), f.proto, len(l4))))
	}
	eth := make([]byte, 14)
	copy(eth, []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1})
	if v6 {
		binary.BigEndian.PutUint16(eth[12:], 0x86dd)
	} else {
		binary.BigEndian.PutUint16(eth[12:], 0x0800)
	}
	return append(append(eth, l3...), l4...)
}

func (f frame) l4() []byte {
	var h []byte
	if f.proto == TCP {
		h = make([]byte, 20)
		h[12] = 5 << 4
		h[13] = f.tcpFlags
		binary.BigEndian.PutUint16(h[14:], 65535)
	} else {
		h = make([]byte, 8)
		binary.BigEndian.PutUint16(h[4:], uint16(8+len(f.payload)))
	}
	binary.BigEndian.PutUint16(h[0:], f.src.Port())
	binary.BigEndian.PutUint16(h[2:], f.dst.Port())
	return append(h, f.payload...)
}

func csumOff(p Protocol) int {
	if p == TCP {
		return 16
	}
	return 6
}

func pseudo(src, dst netip.Addr, p Protocol, n int) uint32 {
	var b []byte
	b = append(b, src.AsSlice()...)
	b = append(b, dst.AsSlice()...)
	b = append(b, 0, uint8(p), uint8(n>>8), uint8(n))
	return uint32(csum(b, 0))
}

// csum is the ones'-complement sum of b plus init, folded (not inverted).
func csum(b []byte, init uint32) uint16 {
	s := init
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}

// parsed is a frame read back from program output, with checksums verified.
type parsed struct {
	src, dst netip.AddrPort
	ttl      uint8
	l4csum   uint16
}

func parseFrame(b []byte) (parsed, error) {
	var p parsed
	if len(b) < 14 {
		return p, fmt.Errorf("short frame")
	}
	et := binary.BigEndian.Uint16(b[12:])
	var l3len int
	var src, dst netip.Addr
	var proto Protocol
	switch et {
	case 0x0800:
		ip := b[14:34]
		if csum(ip, 0) != 0xffff {
			return p, fmt.Errorf("bad IPv4 header checksum")
		}
		l3len, proto, p.ttl = 20, Protocol(ip[9]), ip[8]
		src, dst = netip.AddrFrom4([4]byte(ip[12:16])), netip.AddrFrom4([4]byte(ip[16:20]))
	case 0x86dd:
		ip := b[14:54]
		l3len, proto, p.ttl = 40, Protocol(ip[6]), ip[7]
		src, dst = netip.AddrFrom16([16]byte(ip[8:24])), netip.AddrFrom16([16]byte(ip[24:40]))
	default:
		return p, fmt.Errorf("ethertype %#x", et)
	}
	l4 := b[14+l3len:]
	p.src = netip.AddrPortFrom(src, binary.BigEndian.Uint16(l4[0:]))
	p.dst = netip.AddrPortFrom(dst, binary.BigEndian.Uint16(l4[2:]))
	p.l4csum = binary.BigEndian.Uint16(l4[csumOff(proto):])
	if proto == UDP && p.l4csum == 0 {
		return p, nil
	}
	if csum(l4, pseudo(src, dst, proto, len(l4))) != 0xffff {
		return p, fmt.Errorf("bad %s checksum", proto)
	}
	return p, nil
}
