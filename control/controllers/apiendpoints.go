package controllers

import (
	"net/netip"
	"sort"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/controllers/kube"
)

// The API service (created by the API's Bootstrap at the service CIDR's
// first address) and the slice this controller keeps for it, as
// kube-apiserver's endpoint reconciler does: the members' API addresses.
const (
	APINamespace = "default"
	APIService   = "kubernetes"
	APISlice     = "kubernetes"
	// APIManagedBy keeps the EndpointSlice controller off the slice.
	APIManagedBy = "apiserver.weir.dev"
)

// PlanAPIEndpoints is the EndpointSlice of svc (default/kubernetes): one
// endpoint per voting member with an IPv4, non-loopback API address (pods
// cannot reach a member's loopback), ready when its /readyz answered.
// A slice has one port list, so only members serving on the same port as
// the first such member (by name) are listed; they normally all do.
func PlanAPIEndpoints(svc *corev1.Service, members []kube.Member) *discoveryv1.EndpointSlice {
	sorted := append([]kube.Member(nil), members...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	eps := []discoveryv1.Endpoint{}
	var port uint16
	for _, m := range sorted {
		ap, err := netip.ParseAddrPort(m.APIAddr)
		if err != nil || !m.Voter || !ap.Addr().Is4() || ap.Addr().IsLoopback() || ap.Addr().IsUnspecified() {
			continue
		}
		if port == 0 {
			port = ap.Port()
		}
		if ap.Port() != port {
			continue
		}
		eps = append(eps, discoveryv1.Endpoint{Addresses: []string{ap.Addr().String()},
			Conditions: discoveryv1.EndpointConditions{Ready: new(m.Ready), Serving: new(m.Ready), Terminating: new(false)}})
	}
	var ports []discoveryv1.EndpointPort
	if port != 0 {
		tcp := corev1.ProtocolTCP
		ports = []discoveryv1.EndpointPort{{Name: new("https"), Protocol: &tcp, Port: new(int32(port))}}
	}
	return &discoveryv1.EndpointSlice{
		TypeMeta: metav1.TypeMeta{Kind: "EndpointSlice", APIVersion: "discovery.k8s.io/v1"},
		ObjectMeta: metav1.ObjectMeta{Name: APISlice, Namespace: svc.Namespace,
			Labels: map[string]string{discoveryv1.LabelServiceName: svc.Name, discoveryv1.LabelManagedBy: APIManagedBy},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Service", Name: svc.Name, UID: svc.UID,
				Controller: new(true), BlockOwnerDeletion: new(true)}}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   eps,
		Ports:       ports,
	}
}
