package dns

import (
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// cluster is the generated cluster: services spread over namespaces, every
// tenth one headless, each with an EndpointSlice and its pods.
type cluster struct {
	services []corev1.Service
	slices   []discoveryv1.EndpointSlice
	pods     []corev1.Pod
	// names of the services, "svc-N.ns-M", for the query files.
	names      []string
	namespaces []string
}

const servicesPerNamespace = 100

func svcName(i int) (ns, name string) {
	return fmt.Sprintf("ns-%d", i/servicesPerNamespace), fmt.Sprintf("svc-%d", i)
}

// addr returns the n-th address after base.
func addr(base netip.Addr, n int) netip.Addr {
	b := base.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += uint32(n)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func generate(services, endpoints int) cluster {
	var c cluster
	svcBase, podBase := netip.MustParseAddr("10.96.0.10"), netip.MustParseAddr("10.128.0.1")
	perSvc := max(1, endpoints/max(1, services))
	podIdx := 0
	for i := range services {
		ns, name := svcName(i)
		if i%servicesPerNamespace == 0 {
			c.namespaces = append(c.namespaces, ns)
		}
		c.names = append(c.names, name+"."+ns)
		s := corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
		s.Spec.Ports = []corev1.ServicePort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80}, {Name: "metrics", Protocol: corev1.ProtocolTCP, Port: 9090}}
		if i%10 == 9 {
			s.Spec.ClusterIP = corev1.ClusterIPNone
		} else {
			s.Spec.ClusterIP = addr(svcBase, i).String()
		}
		c.services = append(c.services, s)
		sl := discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: name + "-1", Labels: map[string]string{discoveryv1.LabelServiceName: name}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{port("http", 8080), port("metrics", 9090)},
		}
		for range perSvc {
			ip := addr(podBase, podIdx).String()
			ready := true
			sl.Endpoints = append(sl.Endpoints, discoveryv1.Endpoint{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}})
			c.pods = append(c.pods, pod(ns, fmt.Sprintf("%s-%d", name, podIdx), ip))
			podIdx++
		}
		c.slices = append(c.slices, sl)
	}
	return c
}

func port(name string, p int32) discoveryv1.EndpointPort {
	proto := corev1.ProtocolTCP
	return discoveryv1.EndpointPort{Name: &name, Protocol: &proto, Port: &p}
}

func pod(ns, name, ip string) corev1.Pod {
	p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	p.Status.Phase = corev1.PodRunning
	p.Status.PodIP = ip
	p.Status.PodIPs = []corev1.PodIP{{IP: ip}}
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	return p
}
