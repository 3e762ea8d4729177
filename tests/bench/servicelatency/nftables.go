package servicelatency

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"strings"
)

// kube-proxy's nftables mode: table ip kube-proxy, the service-ips verdict
// map (ip daddr . meta l4proto . th dport) going to one chain per service
// port, which picks an endpoint chain with numgen random; the endpoint
// chain marks hairpin traffic for masquerade and DNATs. Written as one
// `nft -f` transaction, as knftables does.

const nftTable = "ip kube-proxy"

// nftName is kube-proxy's hashAndTruncate: 8 chars of base32(sha256(name)), "-", name.
func nftName(name string) string {
	h := sha256.Sum256([]byte(name))
	return base32.StdEncoding.EncodeToString(h[:])[:8] + "-" + name
}

func nftServiceChain(s SvcPort) string {
	return "service-" + nftName(fmt.Sprintf("%s/%s/%s/%s", s.Namespace, s.Name, s.Proto, s.PortName))
}

func nftEndpointChain(s SvcPort, i int) string {
	ep := s.Endpoints[i]
	return "endpoint-" + nftName(fmt.Sprintf("%s/%s/%s/%s__%s/%d", s.Namespace, s.Name, s.Proto, s.PortName, ep.Addr(), ep.Port()))
}

// NftRules is a full sync into a table that does not exist yet.
func NftRules(svcs []SvcPort) string {
	var b strings.Builder
	b.Grow(len(svcs) * 900)
	nftBase(&b)
	for _, s := range svcs {
		nftService(&b, s, true)
	}
	return b.String()
}

// NftChange is kube-proxy's partial sync after one service port changed
// from old to cur: new endpoint chains, the service chain flushed and
// rewritten. (kube-proxy deletes the stale endpoint chain in a later sync.)
func NftChange(old, cur SvcPort) string {
	var b strings.Builder
	have := map[string]bool{}
	for i := range old.Endpoints {
		have[nftEndpointChain(old, i)] = true
	}
	for i := range cur.Endpoints {
		if c := nftEndpointChain(cur, i); !have[c] {
			nftEndpoint(&b, cur, i)
		}
	}
	fmt.Fprintf(&b, "flush chain %s %s\n", nftTable, nftServiceChain(cur))
	nftServiceRules(&b, cur)
	return b.String()
}

func nftBase(b *strings.Builder) {
	t := nftTable
	fmt.Fprintf(b, "add table %s { comment \"rules for kube-proxy\" ; }\n", t)
	for _, l := range []string{
		`set cluster-ips { type ipv4_addr ; comment "Active ClusterIPs" ; }`,
		`set nodeport-ips { type ipv4_addr ; comment "IPs that accept NodePort traffic" ; }`,
		`map firewall-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "destinations that are subject to LoadBalancerSourceRanges" ; }`,
		`map no-endpoint-nodeports { type inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to service nodeports with no endpoints" ; }`,
		`map no-endpoint-services { type ipv4_addr . inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to services with no endpoints" ; }`,
		`map service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }`,
		`map service-nodeports { type inet_proto . inet_service : verdict ; comment "NodePort traffic" ; }`,
		`chain cluster-ips-check`,
		`chain filter-prerouting-pre-dnat { type filter hook prerouting priority -110 ; }`,
		`chain filter-output-pre-dnat { type filter hook output priority -110 ; }`,
		`chain filter-forward { type filter hook forward priority 0 ; }`,
		`chain filter-input { type filter hook input priority 0 ; }`,
		`chain filter-output { type filter hook output priority 0 ; }`,
		`chain firewall-check`,
		`chain mark-for-masquerade`,
		`chain masquerading`,
		`chain nat-output { type nat hook output priority -100 ; }`,
		`chain nat-postrouting { type nat hook postrouting priority 100 ; }`,
		`chain nat-prerouting { type nat hook prerouting priority -100 ; }`,
		`chain nodeport-endpoints-check`,
		`chain reject-chain { comment "helper for @no-endpoint-services / @no-endpoint-nodeports" ; }`,
		`chain services`,
		`chain service-endpoints-check`,
	} {
		kind, rest, _ := strings.Cut(l, " ")
		fmt.Fprintf(b, "add %s %s %s\n", kind, t, rest)
	}
	for _, r := range []string{
		"cluster-ips-check ip daddr @cluster-ips reject comment \"Reject traffic to invalid ports of ClusterIPs\"",
		"cluster-ips-check ip daddr { " + ServiceCIDR + " } drop comment \"Drop traffic to unallocated ClusterIPs\"",
		"filter-prerouting-pre-dnat ct state new jump firewall-check",
		"filter-forward ct state new jump service-endpoints-check",
		"filter-forward ct state new jump cluster-ips-check",
		"filter-input ct state new jump nodeport-endpoints-check",
		"filter-input ct state new jump service-endpoints-check",
		"filter-output ct state new jump service-endpoints-check",
		"filter-output-pre-dnat ct state new jump firewall-check",
		"filter-output ct state new jump cluster-ips-check",
		"firewall-check ip daddr . meta l4proto . th dport vmap @firewall-ips",
		"mark-for-masquerade mark set mark or 0x4000",
		"masquerading mark and 0x4000 == 0 return",
		"masquerading mark set mark xor 0x4000",
		"masquerading masquerade fully-random",
		"nat-output jump services",
		"nat-postrouting jump masquerading",
		"nat-prerouting jump services",
		"nodeport-endpoints-check ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports",
		"reject-chain reject",
		"services ip daddr . meta l4proto . th dport vmap @service-ips",
		"services ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports",
		"service-endpoints-check ip daddr . meta l4proto . th dport vmap @no-endpoint-services",
	} {
		fmt.Fprintf(b, "add rule %s %s\n", t, r)
	}
}

// nftService writes a service port's chains and, when elements is set, its
// cluster-ips and service-ips elements.
func nftService(b *strings.Builder, s SvcPort, elements bool) {
	svc := nftServiceChain(s)
	fmt.Fprintf(b, "add chain %s %s\n", nftTable, svc)
	for i := range s.Endpoints { // a goto needs its chain to exist already
		nftEndpoint(b, s, i)
	}
	nftServiceRules(b, s)
	if elements {
		fmt.Fprintf(b, "add element %s cluster-ips { %s }\n", nftTable, s.VIP)
		fmt.Fprintf(b, "add element %s service-ips { %s . %s . %d : goto %s }\n", nftTable, s.VIP, s.Proto, s.Port, svc)
	}
}

func nftServiceRules(b *strings.Builder, s SvcPort) {
	svc := nftServiceChain(s)
	fmt.Fprintf(b, "add rule %s %s ip daddr %s ip saddr != %s jump mark-for-masquerade\n", nftTable, svc, s.VIP, ClusterCIDR)
	fmt.Fprintf(b, "add rule %s %s numgen random mod %d vmap { ", nftTable, svc, len(s.Endpoints))
	for i := range s.Endpoints {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(b, "%d : goto %s", i, nftEndpointChain(s, i))
	}
	b.WriteString(" }\n")
}

func nftEndpoint(b *strings.Builder, s SvcPort, i int) {
	c := nftEndpointChain(s, i)
	ep := s.Endpoints[i]
	fmt.Fprintf(b, "add chain %s %s\n", nftTable, c)
	fmt.Fprintf(b, "add rule %s %s ip saddr %s jump mark-for-masquerade\n", nftTable, c, ep.Addr())
	fmt.Fprintf(b, "add rule %s %s meta l4proto %s dnat to %s\n", nftTable, c, s.Proto, ep)
}
