package dns

import (
	"net/netip"
	"strings"

	mdns "github.com/miekg/dns"
)

// lower lowercases ASCII letters; it returns s itself when s has none, so
// the common already-lowercase name costs no allocation.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

func fqdnLower(s string) string { return lower(mdns.Fqdn(s)) }

func isDomain(s string) (int, bool) { return mdns.IsDomainName(s) }

// inZone reports whether the fully qualified name is zone or below it.
func inZone(name, zone string) bool {
	if len(name) == len(zone) {
		return name == zone
	}
	return len(name) > len(zone) && name[len(name)-len(zone)-1] == '.' && name[len(name)-len(zone):] == zone
}

// parent returns the name without its first label ("" for the root).
func parent(name string) string {
	i := strings.IndexByte(name, '.')
	if i < 0 || i == len(name)-1 {
		return ""
	}
	return name[i+1:]
}

// firstLabel returns the first label of a fully qualified name.
func firstLabel(name string) string {
	if i := strings.IndexByte(name, '.'); i >= 0 {
		return name[:i]
	}
	return name
}

// dashed renders an address as one DNS label: 10.1.2.3 -> 10-1-2-3,
// fd00::1 -> fd00--1.
func dashed(a netip.Addr) string {
	s := a.String()
	if a.Is4() {
		return strings.ReplaceAll(s, ".", "-")
	}
	return strings.ReplaceAll(s, ":", "-")
}

// undash parses a dashed label back into an address, accepting exactly
// the forms dashed produces (no leading zeros for IPv4, no zones).
func undash(label string) (netip.Addr, bool) {
	if strings.Count(label, "-") == 3 {
		a, err := netip.ParseAddr(strings.ReplaceAll(label, "-", "."))
		return a, err == nil && a.Is4()
	}
	a, err := netip.ParseAddr(strings.ReplaceAll(label, "-", ":"))
	return a, err == nil && a.Is6() && !a.Is4In6() && a.Zone() == ""
}

// reverseName is the in-addr.arpa. or ip6.arpa. name of an address.
func reverseName(a netip.Addr) string {
	name, err := mdns.ReverseAddr(a.String())
	if err != nil {
		return ""
	}
	return lower(name)
}

func isReverse(name string) bool {
	return strings.HasSuffix(name, ".in-addr.arpa.") || strings.HasSuffix(name, ".ip6.arpa.")
}
