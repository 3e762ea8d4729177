package dns

import (
	"net"
	"net/netip"

	mdns "github.com/miekg/dns"
)

// Constructors for the records the zone serves. Records in the index are
// shared by concurrent queries and never modified after they are built.

func hdr(name string, t uint16, ttl uint32) mdns.RR_Header {
	return mdns.RR_Header{Name: name, Rrtype: t, Class: mdns.ClassINET, Ttl: ttl}
}

func newAddr(name string, a netip.Addr, ttl uint32) mdns.RR {
	if a.Is4() {
		return &mdns.A{Hdr: hdr(name, mdns.TypeA, ttl), A: net.IP(a.AsSlice())}
	}
	return &mdns.AAAA{Hdr: hdr(name, mdns.TypeAAAA, ttl), AAAA: net.IP(a.AsSlice())}
}

func newPTR(name, target string, ttl uint32) mdns.RR {
	return &mdns.PTR{Hdr: hdr(name, mdns.TypePTR, ttl), Ptr: target}
}

func newSRV(name, target string, p uint16, weight uint16, ttl uint32) mdns.RR {
	return &mdns.SRV{Hdr: hdr(name, mdns.TypeSRV, ttl), Priority: 0, Weight: weight, Port: p, Target: target}
}

func newCNAME(name, target string, ttl uint32) mdns.RR {
	return &mdns.CNAME{Hdr: hdr(name, mdns.TypeCNAME, ttl), Target: target}
}

func newSOA(zone string, serial, ttl uint32) *mdns.SOA {
	return &mdns.SOA{
		Hdr:     hdr(zone, mdns.TypeSOA, ttl),
		Ns:      "ns.dns." + zone,
		Mbox:    "hostmaster." + zone,
		Serial:  serial,
		Refresh: 7200,
		Retry:   1800,
		Expire:  86400,
		Minttl:  ttl,
	}
}

// rrKey identifies a record by owner, type and data, to drop duplicates
// that two sources (an endpoint and its pod) contribute.
type rrKey struct {
	name   string
	t      uint16
	addr   netip.Addr
	target string
	port   uint16
}

func keyOf(name string, rr mdns.RR) rrKey {
	k := rrKey{name: name, t: rr.Header().Rrtype}
	switch r := rr.(type) {
	case *mdns.A:
		k.addr, _ = netip.AddrFromSlice(r.A)
	case *mdns.AAAA:
		k.addr, _ = netip.AddrFromSlice(r.AAAA)
	case *mdns.PTR:
		k.target = r.Ptr
	case *mdns.SRV:
		k.target, k.port = r.Target, r.Port
	case *mdns.CNAME:
		k.target = r.Target
	case *mdns.NS:
		k.target = r.Ns
	case *mdns.TXT:
		k.target = r.String()
	}
	return k
}

// withName returns rr under another owner name (the question's spelling),
// copying it so the shared original stays untouched.
func withName(rr mdns.RR, name string) mdns.RR {
	c := mdns.Copy(rr)
	c.Header().Name = name
	return c
}
