package dataplane

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// DesiredFromObjects converts Services and EndpointSlices to Desired, as
// kube-proxy reads them: ClusterIPs, externalIPs and load-balancer IPs on
// each service port, the NodePort, sessionAffinity ClientIP, and the
// endpoints of the slices labelled kubernetes.io/service-name with the
// port's name and protocol. Ready endpoints are backends; serving and
// terminating ones are kept as fallback. ExternalName and headless services
// and SCTP ports are not load-balanced and are left out. Addresses that do
// not parse are skipped and reported in the error, next to a usable Desired.
func DesiredFromObjects(svcs []corev1.Service, eps []discoveryv1.EndpointSlice) (Desired, error) {
	bySvc := map[string][]*discoveryv1.EndpointSlice{}
	for i := range eps {
		if key, ok := SliceService(&eps[i]); ok {
			bySvc[key] = append(bySvc[key], &eps[i])
		}
	}
	var d Desired
	var errs []error
	for i := range svcs {
		svc := &svcs[i]
		out, err := ServicePorts(svc, bySvc[svc.Namespace+"/"+svc.Name])
		d.Services = append(d.Services, out...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	slices.SortFunc(d.Services, func(a, b Service) int { return cmpString(a.String(), b.String()) })
	return d, errors.Join(errs...)
}

// SliceService is the key ("namespace/name") of the Service an
// EndpointSlice belongs to, from its kubernetes.io/service-name label;
// false when it has none.
func SliceService(s *discoveryv1.EndpointSlice) (string, bool) {
	name := s.Labels[discoveryv1.LabelServiceName]
	if name == "" {
		return "", false
	}
	return s.Namespace + "/" + name, true
}

// ServicePorts converts one Service and its EndpointSlices (those
// SliceService maps to it) as DesiredFromObjects does: one Service per
// load-balanced port, none for ExternalName and headless services.
// Addresses that do not parse are skipped and reported in the error.
// Agents use it to convert only the services a change touched.
func ServicePorts(svc *corev1.Service, eps []*discoveryv1.EndpointSlice) ([]Service, error) {
	if svc.Spec.Type == corev1.ServiceTypeExternalName || svc.Spec.ClusterIP == corev1.ClusterIPNone {
		return nil, nil
	}
	var errs []error
	parse := func(what string, ss ...string) []netip.Addr {
		var out []netip.Addr
		for _, s := range ss {
			if s == "" || s == corev1.ClusterIPNone {
				continue
			}
			a, err := netip.ParseAddr(s)
			if err != nil {
				errs = append(errs, fmt.Errorf("service %s/%s: %s %q: not an IP address", svc.Namespace, svc.Name, what, s))
				continue
			}
			out = append(out, a)
		}
		return out
	}
	cips := svc.Spec.ClusterIPs
	if len(cips) == 0 {
		cips = []string{svc.Spec.ClusterIP}
	}
	clusterIPs := parse("clusterIP", cips...)
	external := parse("externalIP", svc.Spec.ExternalIPs...)
	for _, ing := range svc.Status.LoadBalancer.Ingress {
		external = append(external, parse("load-balancer IP", ing.IP)...)
	}
	var out []Service
	for _, p := range svc.Spec.Ports {
		proto := Protocol(0)
		switch p.Protocol {
		case corev1.ProtocolTCP, "":
			proto = TCP
		case corev1.ProtocolUDP:
			proto = UDP
		default:
			continue
		}
		s := Service{Namespace: svc.Namespace, Name: svc.Name, PortName: p.Name, Protocol: proto, Port: uint16(p.Port),
			ClusterIPs: clusterIPs, ExternalIPs: external, AffinityTimeout: affinityOf(svc)}
		if svc.Spec.Type == corev1.ServiceTypeNodePort || svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
			s.NodePort = uint16(p.NodePort)
		}
		bs, err := backendsOf(eps, p.Name, p.Protocol)
		if err != nil {
			errs = append(errs, fmt.Errorf("service %s/%s: %w", svc.Namespace, svc.Name, err))
		}
		s.Backends = bs
		out = append(out, s)
	}
	return out, errors.Join(errs...)
}

func affinityOf(svc *corev1.Service) time.Duration {
	if svc.Spec.SessionAffinity != corev1.ServiceAffinityClientIP {
		return 0
	}
	secs := int32(corev1.DefaultClientIPServiceAffinitySeconds)
	if c := svc.Spec.SessionAffinityConfig; c != nil && c.ClientIP != nil && c.ClientIP.TimeoutSeconds != nil {
		secs = *c.ClientIP.TimeoutSeconds
	}
	return time.Duration(secs) * time.Second
}

// backendsOf collects the endpoints for the service port named portName.
func backendsOf(eps []*discoveryv1.EndpointSlice, portName string, proto corev1.Protocol) ([]Backend, error) {
	if proto == "" {
		proto = corev1.ProtocolTCP
	}
	var out []Backend
	var errs []error
	for _, s := range eps {
		if s.AddressType == discoveryv1.AddressTypeFQDN {
			continue
		}
		port, ok := slicePort(s, portName, proto)
		if !ok {
			continue
		}
		for _, ep := range s.Endpoints {
			ready, term := endpointState(ep.Conditions)
			if !ready && !term {
				continue
			}
			for _, a := range ep.Addresses {
				addr, err := netip.ParseAddr(a)
				if err != nil {
					errs = append(errs, fmt.Errorf("endpointslice %s: address %q: not an IP address", s.Name, a))
					continue
				}
				out = append(out, Backend{Addr: addr, Port: port, Terminating: !ready})
			}
		}
	}
	return out, errors.Join(errs...)
}

func slicePort(s *discoveryv1.EndpointSlice, name string, proto corev1.Protocol) (uint16, bool) {
	for _, p := range s.Ports {
		pn, pp := "", corev1.ProtocolTCP
		if p.Name != nil {
			pn = *p.Name
		}
		if p.Protocol != nil {
			pp = *p.Protocol
		}
		if pn == name && pp == proto && p.Port != nil && *p.Port > 0 && *p.Port < 65536 {
			return uint16(*p.Port), true
		}
	}
	return 0, false
}

// endpointState: ready (serves new connections), or terminating but still
// serving (fallback when no endpoint is ready).
func endpointState(c discoveryv1.EndpointConditions) (ready, terminatingServing bool) {
	isTrue := func(b *bool, def bool) bool {
		if b == nil {
			return def
		}
		return *b
	}
	ready = isTrue(c.Ready, true)
	terminating := isTrue(c.Terminating, false)
	serving := isTrue(c.Serving, ready)
	if ready && !terminating {
		return true, false
	}
	return false, serving && terminating
}
