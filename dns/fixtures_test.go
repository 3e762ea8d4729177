package dns

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Builders for the API objects the tests feed the server.

func svcPort(name string, proto corev1.Protocol, p int32) corev1.ServicePort {
	return corev1.ServicePort{Name: name, Protocol: proto, Port: p, TargetPort: intstr.FromInt32(p)}
}

func clusterIPSvc(ns, name string, ips []string, ports ...corev1.ServicePort) corev1.Service {
	s := corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	s.Spec.Type = corev1.ServiceTypeClusterIP
	if len(ips) > 0 {
		s.Spec.ClusterIP = ips[0]
	}
	s.Spec.ClusterIPs = ips
	s.Spec.Ports = ports
	return s
}

func headlessSvc(ns, name string, publishNotReady bool, ports ...corev1.ServicePort) corev1.Service {
	s := clusterIPSvc(ns, name, []string{corev1.ClusterIPNone}, ports...)
	s.Spec.PublishNotReadyAddresses = publishNotReady
	return s
}

func externalSvc(ns, name, target string) corev1.Service {
	s := corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	s.Spec.Type = corev1.ServiceTypeExternalName
	s.Spec.ExternalName = target
	return s
}

type ep struct {
	addr     string
	hostname string
	ready    bool
}

func epSlice(ns, name, svc string, family discoveryv1.AddressType, ports []discoveryv1.EndpointPort, eps ...ep) discoveryv1.EndpointSlice {
	sl := discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		AddressType: family,
		Ports:       ports,
	}
	for _, e := range eps {
		ready := e.ready
		x := discoveryv1.Endpoint{Addresses: []string{e.addr}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}
		if e.hostname != "" {
			h := e.hostname
			x.Hostname = &h
		}
		sl.Endpoints = append(sl.Endpoints, x)
	}
	return sl
}

func slicePort(name string, proto corev1.Protocol, p int32) discoveryv1.EndpointPort {
	return discoveryv1.EndpointPort{Name: &name, Protocol: &proto, Port: &p}
}

func testPod(ns, name, ip string, ready bool) corev1.Pod {
	p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	p.Status.Phase = corev1.PodRunning
	p.Status.PodIP = ip
	p.Status.PodIPs = []corev1.PodIP{{IP: ip}}
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: status}}
	return p
}

// fixture is a small cluster covering every record type of the spec.
type fixture struct {
	services []corev1.Service
	slices   []discoveryv1.EndpointSlice
	pods     []corev1.Pod
}

func testCluster() fixture {
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	f := fixture{}
	f.services = []corev1.Service{
		clusterIPSvc("default", "kubernetes", []string{"10.96.0.1"}, svcPort("https", tcp, 443)),
		clusterIPSvc("kube-system", "kube-dns", []string{"10.96.0.10"}, svcPort("dns", udp, 53), svcPort("dns-tcp", tcp, 53)),
		clusterIPSvc("default", "web", []string{"10.96.0.20", "fd00:96::20"}, svcPort("http", tcp, 80), svcPort("", tcp, 8080)),
		clusterIPSvc("default", "empty", []string{"10.96.0.30"}, svcPort("http", tcp, 80)),
		headlessSvc("default", "db", false, svcPort("pg", tcp, 5432)),
		headlessSvc("default", "none", false, svcPort("pg", tcp, 5432)),
		headlessSvc("default", "peers", true, svcPort("gossip", udp, 7946)),
		externalSvc("default", "ext", "example.org"),
		externalSvc("default", "alias", "web.default.svc.cluster.local"),
		externalSvc("default", "dangling", "gone.default.svc.cluster.local"),
	}
	pg := []discoveryv1.EndpointPort{slicePort("pg", tcp, 5432)}
	f.slices = []discoveryv1.EndpointSlice{
		epSlice("default", "db-v4", "db", discoveryv1.AddressTypeIPv4, pg,
			ep{"10.244.1.5", "db-0", true}, ep{"10.244.1.6", "", true}, ep{"10.244.1.7", "db-2", false}),
		epSlice("default", "db-v6", "db", discoveryv1.AddressTypeIPv6, pg, ep{"fd00:244::5", "db-0", true}),
		epSlice("default", "none-1", "none", discoveryv1.AddressTypeIPv4, pg, ep{"10.244.1.8", "", false}),
		epSlice("default", "peers-1", "peers", discoveryv1.AddressTypeIPv4,
			[]discoveryv1.EndpointPort{slicePort("gossip", udp, 7946)}, ep{"10.244.2.9", "", false}),
		epSlice("default", "web-1", "web", discoveryv1.AddressTypeIPv4,
			[]discoveryv1.EndpointPort{slicePort("http", tcp, 8080)}, ep{"10.244.1.10", "", true}),
	}
	web := testPod("default", "web-1", "10.244.1.10", true)
	db0 := testPod("default", "db-0", "10.244.1.5", true)
	db0.Spec.Hostname, db0.Spec.Subdomain = "db-0", "db"
	alpha := testPod("default", "alpha", "10.244.1.20", true)
	alpha.Spec.Hostname, alpha.Spec.Subdomain = "alpha", "db"
	beta := testPod("default", "beta", "10.244.1.21", false)
	beta.Spec.Hostname, beta.Spec.Subdomain = "beta", "db"
	f.pods = []corev1.Pod{web, db0, alpha, beta}
	return f
}
