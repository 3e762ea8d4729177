package servicelatency

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"strings"
)

// kube-proxy's iptables mode, written out as its proxier writes it with
// iptables-restore --noflush: the KUBE-* chains of the filter and nat
// tables, one KUBE-SVC chain per service port and one KUBE-SEP chain per
// endpoint, chain names hashed as kube-proxy hashes them.

// svcChain is KUBE-SVC-<16 chars of base32(sha256(portName + proto))>.
func svcChain(s SvcPort) string {
	return "KUBE-SVC-" + hash16(s.PortNameString()+s.Proto)
}

// sepChain is KUBE-SEP-<16 chars of base32(sha256(portName + proto + "ip:port"))>.
func sepChain(s SvcPort, ep string) string {
	return "KUBE-SEP-" + hash16(s.PortNameString()+s.Proto+ep)
}

func hash16(s string) string {
	h := sha256.Sum256([]byte(s))
	return base32.StdEncoding.EncodeToString(h[:])[:16]
}

// IptablesBase is what kube-proxy ensures once with `iptables -I`: the
// jumps from the built-in chains into its own. It is loaded with a plain
// (flushing) iptables-restore, which also empties the tables.
func IptablesBase() string {
	var b strings.Builder
	b.WriteString("*filter\n")
	for _, c := range []string{"KUBE-EXTERNAL-SERVICES", "KUBE-FORWARD", "KUBE-NODEPORTS", "KUBE-PROXY-FIREWALL", "KUBE-SERVICES"} {
		fmt.Fprintf(&b, ":%s - [0:0]\n", c)
	}
	b.WriteString(`-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL
-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS
-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES
-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES
-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL
-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
COMMIT
*nat
:KUBE-SERVICES - [0:0]
:KUBE-POSTROUTING - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
COMMIT
`)
	return b.String()
}

// IptablesRules is a full sync: every KUBE-* chain declared (and so
// flushed) and rewritten.
func IptablesRules(svcs []SvcPort) string {
	return iptablesSync(svcs, svcs, nil)
}

// IptablesChange is kube-proxy's partial sync after one service port
// changed from old to cur: the top-level chains are rewritten in full, the
// changed service's chains are rewritten, and endpoint chains no longer
// used are deleted.
func IptablesChange(svcs []SvcPort, old, cur SvcPort) string {
	keep := map[string]bool{}
	for _, ep := range cur.Endpoints {
		keep[sepChain(cur, ep.String())] = true
	}
	var gone []string
	for _, ep := range old.Endpoints {
		if c := sepChain(old, ep.String()); !keep[c] {
			gone = append(gone, c)
		}
	}
	return iptablesSync(svcs, []SvcPort{cur}, gone)
}

// iptablesSync writes the filter table, then the nat table with the
// service chains of `write` (all of svcs, or the changed ones).
func iptablesSync(svcs, write []SvcPort, deleted []string) string {
	var b strings.Builder
	b.Grow(len(svcs)*300 + len(write)*600)
	b.WriteString(`*filter
:KUBE-NODEPORTS - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-EXTERNAL-SERVICES - [0:0]
:KUBE-FORWARD - [0:0]
:KUBE-PROXY-FIREWALL - [0:0]
-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
COMMIT
*nat
:KUBE-NODEPORTS - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-POSTROUTING - [0:0]
`)
	for _, s := range write {
		fmt.Fprintf(&b, ":%s - [0:0]\n", svcChain(s))
		for _, ep := range s.Endpoints {
			fmt.Fprintf(&b, ":%s - [0:0]\n", sepChain(s, ep.String()))
		}
	}
	for _, c := range deleted { // declared (so flushed) before -X, as kube-proxy does
		fmt.Fprintf(&b, ":%s - [0:0]\n", c)
	}
	b.WriteString(`-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
`)
	for _, s := range svcs {
		fmt.Fprintf(&b, "-A KUBE-SERVICES -m comment --comment \"%s cluster IP\" -m %s -p %s -d %s --dport %d -j %s\n",
			s.PortNameString(), s.Proto, s.Proto, s.VIP, s.Port, svcChain(s))
	}
	b.WriteString("-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be the last rule in this chain\" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\n")
	for _, s := range write {
		writeServiceChains(&b, s)
	}
	for _, c := range deleted {
		fmt.Fprintf(&b, "-X %s\n", c)
	}
	b.WriteString("COMMIT\n")
	return b.String()
}

// writeServiceChains writes KUBE-SVC (masquerade of off-cluster sources,
// then one jump per endpoint taken with probability 1/(n-i)) and the
// KUBE-SEP chains (hairpin masquerade, DNAT).
func writeServiceChains(b *strings.Builder, s SvcPort) {
	svc := svcChain(s)
	name := s.PortNameString()
	fmt.Fprintf(b, "-A %s -m comment --comment \"%s cluster IP\" -m %s -p %s -d %s --dport %d ! -s %s -j KUBE-MARK-MASQ\n",
		svc, name, s.Proto, s.Proto, s.VIP, s.Port, ClusterCIDR)
	n := len(s.Endpoints)
	for i, ep := range s.Endpoints {
		fmt.Fprintf(b, "-A %s -m comment --comment \"%s -> %s\"", svc, name, ep)
		if i < n-1 {
			fmt.Fprintf(b, " -m statistic --mode random --probability %0.10f", 1.0/float64(n-i))
		}
		fmt.Fprintf(b, " -j %s\n", sepChain(s, ep.String()))
	}
	for _, ep := range s.Endpoints {
		sep := sepChain(s, ep.String())
		fmt.Fprintf(b, "-A %s -m comment --comment %s -s %s -j KUBE-MARK-MASQ\n", sep, name, ep.Addr())
		fmt.Fprintf(b, "-A %s -m comment --comment %s -m %s -p %s -j DNAT --to-destination %s\n", sep, name, s.Proto, s.Proto, ep)
	}
}
