package dns

import (
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// The slim types keep only what DNS needs from the API objects, so the
// server's memory does not grow with labels, annotations and status.

type nsName struct{ ns, name string }

func (n nsName) String() string { return n.ns + "/" + n.name }

type svcKind uint8

const (
	svcClusterIP svcKind = iota
	svcHeadless
	svcExternalName
)

type port struct {
	name, proto string // lowercase; proto "tcp", "udp" or "sctp"
	port        uint16
}

type service struct {
	id              nsName
	kind            svcKind
	ips             []netip.Addr // ClusterIPs
	external        string       // ExternalName target, fully qualified
	ports           []port
	publishNotReady bool
}

type endpoint struct {
	addrs    []netip.Addr
	hostname string
	ready    bool
}

type endpointSlice struct {
	id        nsName
	service   string // kubernetes.io/service-name
	ports     []port
	endpoints []endpoint
}

type pod struct {
	id                  nsName
	ips                 []netip.Addr
	hostname, subdomain string
	ready, hostNetwork  bool
}

const tolerateUnreadyAnnotation = "service.alpha.kubernetes.io/tolerate-unready-endpoints"

func slimService(s *corev1.Service) (*service, []string) {
	out := &service{
		id:              nsName{lower(s.Namespace), lower(s.Name)},
		publishNotReady: s.Spec.PublishNotReadyAddresses || s.Annotations[tolerateUnreadyAnnotation] == "true",
	}
	var bad []string
	switch {
	case s.Spec.Type == corev1.ServiceTypeExternalName:
		out.kind = svcExternalName
		out.external = fqdnLower(s.Spec.ExternalName)
		if _, ok := isDomain(out.external); !ok || s.Spec.ExternalName == "" {
			bad = append(bad, "externalName "+s.Spec.ExternalName)
			out.external = ""
		}
	case s.Spec.ClusterIP == corev1.ClusterIPNone:
		out.kind = svcHeadless
	default:
		ips := s.Spec.ClusterIPs
		if len(ips) == 0 && s.Spec.ClusterIP != "" {
			ips = []string{s.Spec.ClusterIP}
		}
		out.ips, bad = parseAddrs(ips)
	}
	for _, p := range s.Spec.Ports {
		out.ports = append(out.ports, port{lower(p.Name), protoName(p.Protocol), uint16(p.Port)})
	}
	return out, bad
}

func slimSlice(s *discoveryv1.EndpointSlice) (*endpointSlice, []string) {
	out := &endpointSlice{
		id:      nsName{lower(s.Namespace), lower(s.Name)},
		service: lower(s.Labels[discoveryv1.LabelServiceName]),
	}
	if s.AddressType == discoveryv1.AddressTypeFQDN {
		return out, nil
	}
	for _, p := range s.Ports {
		if p.Port == nil || p.Name == nil || *p.Name == "" {
			continue // only named ports get SRV records
		}
		proto := corev1.ProtocolTCP
		if p.Protocol != nil {
			proto = *p.Protocol
		}
		out.ports = append(out.ports, port{lower(*p.Name), protoName(proto), uint16(*p.Port)})
	}
	var bad []string
	for _, e := range s.Endpoints {
		addrs, b := parseAddrs(e.Addresses)
		bad = append(bad, b...)
		ep := endpoint{addrs: addrs, ready: e.Conditions.Ready == nil || *e.Conditions.Ready}
		if e.Hostname != nil {
			ep.hostname = lower(*e.Hostname)
		}
		out.endpoints = append(out.endpoints, ep)
	}
	return out, bad
}

func slimPod(p *corev1.Pod) (*pod, []string) {
	out := &pod{
		id:          nsName{lower(p.Namespace), lower(p.Name)},
		hostname:    lower(p.Spec.Hostname),
		subdomain:   lower(p.Spec.Subdomain),
		hostNetwork: p.Spec.HostNetwork,
	}
	if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
		return out, nil
	}
	ips := make([]string, 0, len(p.Status.PodIPs)+1)
	for _, ip := range p.Status.PodIPs {
		ips = append(ips, ip.IP)
	}
	if len(ips) == 0 && p.Status.PodIP != "" {
		ips = append(ips, p.Status.PodIP)
	}
	var bad []string
	out.ips, bad = parseAddrs(ips)
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			out.ready = c.Status == corev1.ConditionTrue
		}
	}
	return out, bad
}

// parseAddrs parses IP strings, dropping (and returning) the ones that are
// not addresses.
func parseAddrs(in []string) ([]netip.Addr, []string) {
	var out []netip.Addr
	var bad []string
	for _, s := range in {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			bad = append(bad, "address "+s)
			continue
		}
		a = a.Unmap()
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out, bad
}

func protoName(p corev1.Protocol) string {
	if p == "" {
		return "tcp"
	}
	return strings.ToLower(string(p))
}
