package servicelatency

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"

	"github.com/weirnet/weir/dataplane"
)

// SvcPort is one port of a Kubernetes Service with its ready endpoints, the
// unit kube-proxy makes chains for and weir makes a frontend for.
type SvcPort struct {
	Namespace string
	Name      string
	PortName  string
	Proto     string // "tcp" or "udp", lower case as kube-proxy hashes it
	VIP       netip.Addr
	Port      uint16
	Endpoints []netip.AddrPort
}

// PortName is kube-proxy's ServicePortName.String(): "ns/name:port".
func (s SvcPort) PortNameString() string {
	n := s.Namespace + "/" + s.Name
	if s.PortName != "" {
		n += ":" + s.PortName
	}
	return n
}

// Dataplane converts the set to weir's desired state.
func Dataplane(svcs []SvcPort) dataplane.Desired {
	d := dataplane.Desired{Services: make([]dataplane.Service, 0, len(svcs))}
	for _, s := range svcs {
		p := dataplane.TCP
		if s.Proto == "udp" {
			p = dataplane.UDP
		}
		ds := dataplane.Service{Namespace: s.Namespace, Name: s.Name, PortName: s.PortName, Protocol: p,
			Port: s.Port, ClusterIPs: []netip.Addr{s.VIP}}
		for _, ep := range s.Endpoints {
			ds.Backends = append(ds.Backends, dataplane.Backend{Addr: ep.Addr(), Port: ep.Port()})
		}
		d.Services = append(d.Services, ds)
	}
	return d
}

// Target is a service whose latency is measured: a TCP and a UDP port
// served by real backend pods.
type Target struct {
	Name     string   `json:"name"`     // e.g. "end/local"
	Position int      `json:"position"` // index of its TCP port among the service ports
	TCPVIP   string   `json:"tcpVIP"`   // VIP:port
	UDPVIP   string   `json:"udpVIP"`
	TCPPods  []string `json:"tcpPods"` // pod IP:targetPort, what direct mode dials
	UDPPods  []string `json:"udpPods"`
	Backends []string `json:"backends"` // names the backends answer with
}

// targetSpec is a measured service before it is placed.
type targetSpec struct {
	name  string
	index int // service index (0-based) among the scale's services
	pods  []pod
}

// Layout of generated addresses: ClusterIPs from 10.96.0.0/12, the bulk
// services' endpoints (never reached) from 10.128.0.0/11, pods in
// 10.244.0.0/16 (ClusterCIDR).
var (
	serviceBase  = netip.MustParseAddr("10.96.0.0")
	endpointBase = netip.MustParseAddr("10.128.0.0")
)

const (
	// ServiceCIDR and ClusterCIDR as kube-proxy would be configured.
	ServiceCIDR = "10.96.0.0/12"
	ClusterCIDR = "10.244.0.0/16"
	svcTCPPort  = 80
	svcUDPPort  = 53
	podTCPPort  = 8080
	podUDPPort  = 5353
)

func addrAdd(base netip.Addr, n int) netip.Addr {
	b := base.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += uint32(n)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// generate builds n services (service i has ClusterIP 10.96.0.0+i+1 and
// `backends` endpoints) and puts the targets at their indexes: a target
// service gets a TCP and a UDP port whose endpoints are real pods. The
// returned slice is in kube-proxy rule order (the order the rules are
// written in, which is what "position" means for iptables).
func generate(n, backends int, targets []targetSpec) ([]SvcPort, []Target) {
	byIndex := map[int]targetSpec{}
	for _, t := range targets {
		byIndex[t.index] = t
	}
	svcs := make([]SvcPort, 0, n+len(targets))
	var out []Target
	for i := 0; i < n; i++ {
		ns := fmt.Sprintf("ns%d", i/1000)
		name := fmt.Sprintf("svc%d", i)
		vip := addrAdd(serviceBase, i+1)
		if t, ok := byIndex[i]; ok {
			tcp := SvcPort{Namespace: "bench", Name: strings.ReplaceAll(t.name, "/", "-"), PortName: "http", Proto: "tcp", VIP: vip, Port: svcTCPPort}
			udp := SvcPort{Namespace: tcp.Namespace, Name: tcp.Name, PortName: "dns", Proto: "udp", VIP: vip, Port: svcUDPPort}
			tg := Target{Name: t.name, Position: len(svcs),
				TCPVIP: netip.AddrPortFrom(vip, svcTCPPort).String(), UDPVIP: netip.AddrPortFrom(vip, svcUDPPort).String()}
			for _, p := range t.pods {
				tcp.Endpoints = append(tcp.Endpoints, netip.AddrPortFrom(p.ip, podTCPPort))
				udp.Endpoints = append(udp.Endpoints, netip.AddrPortFrom(p.ip, podUDPPort))
				tg.TCPPods = append(tg.TCPPods, netip.AddrPortFrom(p.ip, podTCPPort).String())
				tg.UDPPods = append(tg.UDPPods, netip.AddrPortFrom(p.ip, podUDPPort).String())
				tg.Backends = append(tg.Backends, p.name)
			}
			svcs = append(svcs, tcp, udp)
			out = append(out, tg)
			continue
		}
		s := SvcPort{Namespace: ns, Name: name, PortName: "http", Proto: "tcp", VIP: vip, Port: svcTCPPort}
		for j := 0; j < backends; j++ {
			s.Endpoints = append(s.Endpoints, netip.AddrPortFrom(addrAdd(endpointBase, i*backends+j), podTCPPort))
		}
		svcs = append(svcs, s)
	}
	slices.SortStableFunc(out, func(a, b Target) int { return strings.Compare(a.Name, b.Name) })
	return svcs, out
}

// placeTargets puts "end" targets at the last indexes and "random" ones at
// random indexes before them (fewer targets when n is small).
func placeTargets(n int, local, remote []pod, rng *rand.Rand) []targetSpec {
	specs := []targetSpec{{name: "end/local", index: n - 1, pods: local}}
	if n >= 2 {
		specs = append(specs, targetSpec{name: "end/remote", index: n - 2, pods: remote})
	}
	if n >= 3 {
		specs = append(specs, targetSpec{name: "random/local", index: rng.IntN(n - 2), pods: local})
	}
	return specs
}

// changed returns a copy of s with its last endpoint replaced: the
// one-service change the benchmark times.
func changed(s SvcPort, round int) SvcPort {
	c := s
	c.Endpoints = append([]netip.AddrPort(nil), s.Endpoints...)
	if len(c.Endpoints) == 0 {
		c.Endpoints = []netip.AddrPort{netip.AddrPortFrom(addrAdd(endpointBase, 1<<20+round), podTCPPort)}
		return c
	}
	last := len(c.Endpoints) - 1
	c.Endpoints[last] = netip.AddrPortFrom(addrAdd(endpointBase, 1<<20+round), c.Endpoints[last].Port())
	return c
}
