package dns

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	mdns "github.com/miekg/dns"
)

// UpstreamsFromResolvConf reads the nameservers of a resolv.conf (the
// node's, usually /etc/resolv.conf) as "ip:port" upstreams.
func UpstreamsFromResolvConf(path string) ([]string, error) {
	cc, err := mdns.ClientConfigFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("dns: read upstreams from %s: %w", path, err)
	}
	var out []string
	for _, s := range cc.Servers {
		a, err := netip.ParseAddr(s)
		if err != nil {
			continue // a zoned or malformed entry: not usable here
		}
		out = append(out, net.JoinHostPort(a.String(), cc.Port))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("dns: %s lists no usable nameserver: add a 'nameserver IP' line", path)
	}
	return out, nil
}

// PodResolvConf is what a pod in namespace ns gets as /etc/resolv.conf:
// the cluster DNS nameservers, the Kubernetes search path and ndots:5
// (so "svc" and "svc.ns" are tried inside the zone first), followed by
// any search domains of the node.
func PodResolvConf(nameservers []netip.Addr, ns, zone string, hostSearch ...string) []byte {
	zone = strings.TrimSuffix(lower(zone), ".")
	var b strings.Builder
	search := append([]string{ns + ".svc." + zone, "svc." + zone, zone}, hostSearch...)
	fmt.Fprintf(&b, "search %s\n", strings.Join(search, " "))
	for _, a := range nameservers {
		fmt.Fprintf(&b, "nameserver %s\n", a)
	}
	b.WriteString("options ndots:5\n")
	return []byte(b.String())
}
