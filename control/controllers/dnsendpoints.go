package controllers

import (
	"net/netip"
	"sort"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The cluster DNS service (created by the API's Bootstrap) and the slice
// this controller keeps for it: every node runs a DNS listener on its
// InternalIP, port 53, so the nodes are kube-dns's endpoints.
const (
	DNSNamespace = "kube-system"
	DNSService   = "kube-dns"
	DNSSlice     = "kube-dns-nodes"
	// DNSManagedBy is the managed-by label of the DNS slice, distinct from
	// ManagedBy so that the EndpointSlice controller leaves it alone.
	DNSManagedBy = "dns-controller.weir.dev"
	// DNSPort is the port of the nodes' DNS listeners.
	DNSPort = 53
)

// PlanDNSEndpoints is the EndpointSlice of svc (kube-system/kube-dns):
// one IPv4 endpoint per node with an InternalIP, ready when the node's
// Ready condition is True, with ports dns 53/UDP and dns-tcp 53/TCP. The
// slice is owned by svc, so it goes when the service goes.
func PlanDNSEndpoints(svc *corev1.Service, nodes []*corev1.Node) *discoveryv1.EndpointSlice {
	sorted := append([]*corev1.Node(nil), nodes...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	eps := []discoveryv1.Endpoint{}
	for _, n := range sorted {
		ip, ok := internalIPv4(n)
		if !ok {
			continue
		}
		ready := nodeIsReady(n)
		eps = append(eps, discoveryv1.Endpoint{Addresses: []string{ip.String()}, NodeName: new(n.Name),
			Conditions: discoveryv1.EndpointConditions{Ready: new(ready), Serving: new(ready), Terminating: new(false)}})
	}
	udp, tcp := corev1.ProtocolUDP, corev1.ProtocolTCP
	return &discoveryv1.EndpointSlice{
		TypeMeta: metav1.TypeMeta{Kind: "EndpointSlice", APIVersion: "discovery.k8s.io/v1"},
		ObjectMeta: metav1.ObjectMeta{Name: DNSSlice, Namespace: svc.Namespace,
			Labels: map[string]string{discoveryv1.LabelServiceName: svc.Name, discoveryv1.LabelManagedBy: DNSManagedBy},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Service", Name: svc.Name, UID: svc.UID,
				Controller: new(true), BlockOwnerDeletion: new(true)}}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   eps,
		Ports: []discoveryv1.EndpointPort{
			{Name: new("dns"), Protocol: &udp, Port: new(int32(DNSPort))},
			{Name: new("dns-tcp"), Protocol: &tcp, Port: new(int32(DNSPort))},
		},
	}
}

// internalIPv4 is the node's first IPv4 InternalIP.
func internalIPv4(n *corev1.Node) (netip.Addr, bool) {
	for _, a := range n.Status.Addresses {
		if a.Type != corev1.NodeInternalIP {
			continue
		}
		if ip, err := netip.ParseAddr(a.Address); err == nil && ip.Is4() {
			return ip, true
		}
	}
	return netip.Addr{}, false
}

func nodeIsReady(n *corev1.Node) bool {
	c := nodeReady(n)
	return c != nil && c.Status == corev1.ConditionTrue
}
