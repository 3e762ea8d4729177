package dns

import (
	"slices"
	"strings"
	"testing"

	mdns "github.com/miekg/dns"
)

type zoneCase struct {
	name   string
	qtype  uint16
	rcode  int
	answer []string // sorted rrStrings; nil means an empty answer
	extra  []string // checked when not nil
}

var zoneCases = []zoneCase{
	{"dns-version.cluster.local.", mdns.TypeTXT, 0, []string{`dns-version.cluster.local. 30 IN TXT "1.1.0"`}, nil},
	{"kubernetes.default.svc.cluster.local.", mdns.TypeA, 0, []string{"kubernetes.default.svc.cluster.local. 30 IN A 10.96.0.1"}, nil},
	{"web.default.svc.cluster.local.", mdns.TypeA, 0, []string{"web.default.svc.cluster.local. 30 IN A 10.96.0.20"}, nil},
	{"web.default.svc.cluster.local.", mdns.TypeAAAA, 0, []string{"web.default.svc.cluster.local. 30 IN AAAA fd00:96::20"}, nil},
	{"web.default.svc.cluster.local.", mdns.TypeTXT, 0, nil, nil},
	{"web.default.svc.cluster.local.", mdns.TypeANY, 0, []string{
		"web.default.svc.cluster.local. 30 IN A 10.96.0.20", "web.default.svc.cluster.local. 30 IN AAAA fd00:96::20"}, nil},
	// A ClusterIP service has its A record even without endpoints.
	{"empty.default.svc.cluster.local.", mdns.TypeA, 0, []string{"empty.default.svc.cluster.local. 30 IN A 10.96.0.30"}, nil},
	{"empty.default.svc.cluster.local.", mdns.TypeAAAA, 0, nil, nil},
	{"_http._tcp.web.default.svc.cluster.local.", mdns.TypeSRV, 0,
		[]string{"_http._tcp.web.default.svc.cluster.local. 30 IN SRV 0 100 80 web.default.svc.cluster.local."},
		[]string{"web.default.svc.cluster.local. 30 IN A 10.96.0.20", "web.default.svc.cluster.local. 30 IN AAAA fd00:96::20"}},
	{"_https._tcp.kubernetes.default.svc.cluster.local.", mdns.TypeSRV, 0,
		[]string{"_https._tcp.kubernetes.default.svc.cluster.local. 30 IN SRV 0 100 443 kubernetes.default.svc.cluster.local."}, nil},
	{"_dns._udp.kube-dns.kube-system.svc.cluster.local.", mdns.TypeSRV, 0,
		[]string{"_dns._udp.kube-dns.kube-system.svc.cluster.local. 30 IN SRV 0 100 53 kube-dns.kube-system.svc.cluster.local."}, nil},
	{"_http._udp.web.default.svc.cluster.local.", mdns.TypeSRV, 3, nil, nil},
	{"_tcp.web.default.svc.cluster.local.", mdns.TypeSRV, 0, nil, nil},
	{"1.0.96.10.in-addr.arpa.", mdns.TypePTR, 0, []string{"1.0.96.10.in-addr.arpa. 30 IN PTR kubernetes.default.svc.cluster.local."}, nil},
	{"0.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.0.d.f.ip6.arpa.", mdns.TypePTR, 0,
		[]string{"0.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.0.d.f.ip6.arpa. 30 IN PTR web.default.svc.cluster.local."}, nil},
	// Headless: one record per ready endpoint; not-ready ones only with
	// publishNotReadyAddresses; NXDOMAIN when none is ready.
	{"db.default.svc.cluster.local.", mdns.TypeA, 0, []string{
		"db.default.svc.cluster.local. 30 IN A 10.244.1.5", "db.default.svc.cluster.local. 30 IN A 10.244.1.6"}, nil},
	{"db.default.svc.cluster.local.", mdns.TypeAAAA, 0, []string{"db.default.svc.cluster.local. 30 IN AAAA fd00:244::5"}, nil},
	{"db-0.db.default.svc.cluster.local.", mdns.TypeA, 0, []string{"db-0.db.default.svc.cluster.local. 30 IN A 10.244.1.5"}, nil},
	{"db-0.db.default.svc.cluster.local.", mdns.TypeAAAA, 0, []string{"db-0.db.default.svc.cluster.local. 30 IN AAAA fd00:244::5"}, nil},
	{"10-244-1-6.db.default.svc.cluster.local.", mdns.TypeA, 0, []string{"10-244-1-6.db.default.svc.cluster.local. 30 IN A 10.244.1.6"}, nil},
	{"db-2.db.default.svc.cluster.local.", mdns.TypeA, 3, nil, nil},
	{"_pg._tcp.db.default.svc.cluster.local.", mdns.TypeSRV, 0, []string{
		"_pg._tcp.db.default.svc.cluster.local. 30 IN SRV 0 50 5432 10-244-1-6.db.default.svc.cluster.local.",
		"_pg._tcp.db.default.svc.cluster.local. 30 IN SRV 0 50 5432 db-0.db.default.svc.cluster.local."}, []string{
		"10-244-1-6.db.default.svc.cluster.local. 30 IN A 10.244.1.6",
		"db-0.db.default.svc.cluster.local. 30 IN A 10.244.1.5",
		"db-0.db.default.svc.cluster.local. 30 IN AAAA fd00:244::5"}},
	// The endpoint's PTR wins over the pod's dashed name for the same IP.
	{"5.1.244.10.in-addr.arpa.", mdns.TypePTR, 0, []string{"5.1.244.10.in-addr.arpa. 30 IN PTR db-0.db.default.svc.cluster.local."}, nil},
	{"5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.4.4.2.0.0.0.d.f.ip6.arpa.", mdns.TypePTR, 0,
		[]string{"5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.4.4.2.0.0.0.d.f.ip6.arpa. 30 IN PTR db-0.db.default.svc.cluster.local."}, nil},
	{"none.default.svc.cluster.local.", mdns.TypeA, 3, nil, nil},
	{"peers.default.svc.cluster.local.", mdns.TypeA, 0, []string{"peers.default.svc.cluster.local. 30 IN A 10.244.2.9"}, nil},
	{"_gossip._udp.peers.default.svc.cluster.local.", mdns.TypeSRV, 0,
		[]string{"_gossip._udp.peers.default.svc.cluster.local. 30 IN SRV 0 100 7946 10-244-2-9.peers.default.svc.cluster.local."}, nil},
	// Pod hostname/subdomain records: ready pods only.
	{"alpha.db.default.svc.cluster.local.", mdns.TypeA, 0, []string{"alpha.db.default.svc.cluster.local. 30 IN A 10.244.1.20"}, nil},
	{"beta.db.default.svc.cluster.local.", mdns.TypeA, 3, nil, nil},
	// ExternalName: a CNAME, chased inside the zone.
	{"ext.default.svc.cluster.local.", mdns.TypeCNAME, 0, []string{"ext.default.svc.cluster.local. 30 IN CNAME example.org."}, nil},
	{"ext.default.svc.cluster.local.", mdns.TypeA, 0, []string{"ext.default.svc.cluster.local. 30 IN CNAME example.org."}, nil},
	{"alias.default.svc.cluster.local.", mdns.TypeA, 0, []string{
		"alias.default.svc.cluster.local. 30 IN CNAME web.default.svc.cluster.local.",
		"web.default.svc.cluster.local. 30 IN A 10.96.0.20"}, nil},
	{"dangling.default.svc.cluster.local.", mdns.TypeA, 3, []string{
		"dangling.default.svc.cluster.local. 30 IN CNAME gone.default.svc.cluster.local."}, nil},
	// Pods: verified dashed-IP names and their PTR records.
	{"10-244-1-10.default.pod.cluster.local.", mdns.TypeA, 0, []string{"10-244-1-10.default.pod.cluster.local. 30 IN A 10.244.1.10"}, nil},
	{"10-244-1-99.default.pod.cluster.local.", mdns.TypeA, 3, nil, nil},
	{"10-244-1-10.other.pod.cluster.local.", mdns.TypeA, 3, nil, nil},
	{"10.1.244.10.in-addr.arpa.", mdns.TypePTR, 0, []string{"10.1.244.10.in-addr.arpa. 30 IN PTR 10-244-1-10.default.pod.cluster.local."}, nil},
	{"20.1.244.10.in-addr.arpa.", mdns.TypePTR, 0, []string{"20.1.244.10.in-addr.arpa. 30 IN PTR 10-244-1-20.default.pod.cluster.local."}, nil},
	// Case-insensitive; the answer keeps the question's spelling.
	{"KUBERNETES.Default.SVC.cluster.LOCAL.", mdns.TypeA, 0, []string{"KUBERNETES.Default.SVC.cluster.LOCAL. 30 IN A 10.96.0.1"}, nil},
	// NXDOMAIN vs NODATA (empty non-terminals exist).
	{"nosuch.default.svc.cluster.local.", mdns.TypeA, 3, nil, nil},
	{"x.web.default.svc.cluster.local.", mdns.TypeA, 3, nil, nil},
	{"default.svc.cluster.local.", mdns.TypeA, 0, nil, nil},
	{"nosuch.svc.cluster.local.", mdns.TypeA, 3, nil, nil},
	{"svc.cluster.local.", mdns.TypeA, 0, nil, nil},
	{"pod.cluster.local.", mdns.TypeA, 0, nil, nil},
	{"other.cluster.local.", mdns.TypeA, 3, nil, nil},
	{"kubernetes.default.cluster.local.", mdns.TypeA, 3, nil, nil},
	// The apex.
	{"cluster.local.", mdns.TypeNS, 0, []string{"cluster.local. 30 IN NS ns.dns.cluster.local."}, nil},
	{"cluster.local.", mdns.TypeA, 0, nil, nil},
	{"ns.dns.cluster.local.", mdns.TypeA, 0, []string{"ns.dns.cluster.local. 30 IN A 10.96.0.10"}, nil},
	// Outside the zone without upstreams: refused, never an open resolver.
	{"example.org.", mdns.TypeA, mdns.RcodeRefused, nil, nil},
	{"9.9.9.10.in-addr.arpa.", mdns.TypePTR, mdns.RcodeRefused, nil, nil},
	{"kubernetes.default.svc.cluster.local.", mdns.TypeAXFR, mdns.RcodeRefused, nil, nil},
}

func TestZoneRecords(t *testing.T) {
	s, addr := startServer(t, Config{})
	f := testCluster()
	s.Update(f.services, f.slices, f.pods)
	for _, network := range []string{"udp", "tcp"} {
		for _, tc := range zoneCases {
			t.Run(network+"/"+mdns.TypeToString[tc.qtype]+"/"+tc.name, func(t *testing.T) {
				r := ask(t, addr, network, tc.name, tc.qtype)
				checkReply(t, r, tc)
			})
		}
	}
}

func checkReply(t *testing.T, r *mdns.Msg, tc zoneCase) {
	t.Helper()
	if r.Rcode != tc.rcode {
		t.Fatalf("rcode %s, want %s\n%s", mdns.RcodeToString[r.Rcode], mdns.RcodeToString[tc.rcode], r)
	}
	if got := rrStrings(r.Answer); !slices.Equal(got, tc.answer) && !(len(got) == 0 && tc.answer == nil) {
		t.Fatalf("answer:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.answer, "\n"))
	}
	if tc.extra != nil {
		if got := rrStrings(r.Extra); !slices.Equal(got, tc.extra) {
			t.Fatalf("additional:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.extra, "\n"))
		}
	}
	if tc.rcode == mdns.RcodeRefused {
		return
	}
	if !r.Authoritative || !r.RecursionAvailable {
		t.Errorf("AA=%v RA=%v, want both set", r.Authoritative, r.RecursionAvailable)
	}
	if tc.rcode == mdns.RcodeNameError || len(tc.answer) == 0 {
		soa, ok := firstSOA(r.Ns)
		if len(r.Ns) != 1 || !ok || soa.Ns != "ns.dns."+soa.Hdr.Name || soa.Minttl != soa.Hdr.Ttl || soa.Refresh != 7200 {
			t.Errorf("a negative answer needs the zone SOA (minimum = TTL) in authority, got %v", r.Ns)
		}
	}
}

func firstSOA(rrs []mdns.RR) (*mdns.SOA, bool) {
	if len(rrs) == 0 {
		return nil, false
	}
	soa, ok := rrs[0].(*mdns.SOA)
	return soa, ok
}
