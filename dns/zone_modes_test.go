package dns

import (
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

func runCases(t *testing.T, addr string, cases []zoneCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(mdns.TypeToString[tc.qtype]+"/"+tc.name, func(t *testing.T) {
			checkReply(t, ask(t, addr, "udp", tc.name, tc.qtype), tc)
		})
	}
}

func TestInsecurePodRecords(t *testing.T) {
	s, addr := startServer(t, Config{PodRecords: PodsInsecure, Zone: "Weir.Test"})
	s.Update(nil, nil, nil)
	soaCase := func(name string, qtype uint16, rcode int, answer ...string) zoneCase {
		return zoneCase{name, qtype, rcode, answer, nil}
	}
	cases := []zoneCase{
		soaCase("10-1-2-3.anyns.pod.weir.test.", mdns.TypeA, 0, "10-1-2-3.anyns.pod.weir.test. 30 IN A 10.1.2.3"),
		soaCase("10-1-2-3.anyns.pod.weir.test.", mdns.TypeAAAA, 0),
		soaCase("fd00--1.anyns.pod.weir.test.", mdns.TypeAAAA, 0, "fd00--1.anyns.pod.weir.test. 30 IN AAAA fd00::1"),
		soaCase("10-1-2.anyns.pod.weir.test.", mdns.TypeA, mdns.RcodeNameError),
		soaCase("010-1-2-3.anyns.pod.weir.test.", mdns.TypeA, mdns.RcodeNameError),
		soaCase("x.10-1-2-3.anyns.pod.weir.test.", mdns.TypeA, mdns.RcodeNameError),
		soaCase("anyns.pod.weir.test.", mdns.TypeA, 0),
		soaCase("pod.weir.test.", mdns.TypeA, 0),
	}
	for _, tc := range cases {
		t.Run(tc.name+mdns.TypeToString[tc.qtype], func(t *testing.T) {
			r := ask(t, addr, "udp", tc.name, tc.qtype)
			if r.Rcode != tc.rcode {
				t.Fatalf("rcode %s, want %s", mdns.RcodeToString[r.Rcode], mdns.RcodeToString[tc.rcode])
			}
			got := rrStrings(r.Answer)
			if len(got) != len(tc.answer) || (len(got) == 1 && got[0] != tc.answer[0]) {
				t.Fatalf("answer %q, want %q", got, tc.answer)
			}
			if len(got) == 0 && (len(r.Ns) != 1 || r.Ns[0].Header().Name != "weir.test.") {
				t.Fatalf("negative answer without the zone SOA: %v", r.Ns)
			}
		})
	}
}

func TestPodRecordsDisabled(t *testing.T) {
	s, addr := startServer(t, Config{PodRecords: PodsDisabled})
	f := testCluster()
	s.Update(f.services, f.slices, f.pods)
	runCases(t, addr, []zoneCase{
		{"10-244-1-10.default.pod.cluster.local.", mdns.TypeA, mdns.RcodeNameError, nil, nil},
		{"10.1.244.10.in-addr.arpa.", mdns.TypePTR, mdns.RcodeRefused, nil, nil}, // not ours: would be forwarded
		{"5.1.244.10.in-addr.arpa.", mdns.TypePTR, 0, []string{"5.1.244.10.in-addr.arpa. 30 IN PTR db-0.db.default.svc.cluster.local."}, nil},
	})
}

func TestTTLAndHeadlessSRVNxM(t *testing.T) {
	s, addr := startServer(t, Config{TTL: 5 * time.Second})
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	svc := headlessSvc("ns", "h", false, svcPort("a", tcp, 1), svcPort("b", udp, 2))
	ports := []discoveryv1.EndpointPort{slicePort("a", tcp, 1001), slicePort("b", udp, 1002)}
	sl := epSlice("ns", "h-1", "h", discoveryv1.AddressTypeIPv4, ports, ep{"10.1.0.1", "x", true}, ep{"10.1.0.2", "y", true})
	s.Update([]corev1.Service{svc}, []discoveryv1.EndpointSlice{sl}, nil)
	runCases(t, addr, []zoneCase{
		{"_a._tcp.h.ns.svc.cluster.local.", mdns.TypeSRV, 0, []string{
			"_a._tcp.h.ns.svc.cluster.local. 5 IN SRV 0 50 1001 x.h.ns.svc.cluster.local.",
			"_a._tcp.h.ns.svc.cluster.local. 5 IN SRV 0 50 1001 y.h.ns.svc.cluster.local."}, nil},
		{"_b._udp.h.ns.svc.cluster.local.", mdns.TypeSRV, 0, []string{
			"_b._udp.h.ns.svc.cluster.local. 5 IN SRV 0 50 1002 x.h.ns.svc.cluster.local.",
			"_b._udp.h.ns.svc.cluster.local. 5 IN SRV 0 50 1002 y.h.ns.svc.cluster.local."}, nil},
		{"_b._tcp.h.ns.svc.cluster.local.", mdns.TypeSRV, mdns.RcodeNameError, nil, nil},
		{"h.ns.svc.cluster.local.", mdns.TypeAAAA, 0, nil, nil},
	})
	r := ask(t, addr, "udp", "nosuch.ns.svc.cluster.local.", mdns.TypeA)
	if soa, ok := r.Ns[0].(*mdns.SOA); !ok || soa.Minttl != 5 || soa.Hdr.Ttl != 5 {
		t.Fatalf("SOA with TTL 5 expected: %v", r.Ns)
	}
}
