package controllers

import (
	"fmt"
	"hash/fnv"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// ManagedBy is the value of endpointslice.kubernetes.io/managed-by on the
// slices this controller writes.
const ManagedBy = "endpointslice-controller.weir.dev"

// maxSliceEndpoints is the most endpoints one slice holds.
const maxSliceEndpoints = 100

// svcEndpoint is one pod as an endpoint of a service, with the ports its
// containers resolve.
type svcEndpoint struct {
	pod         *corev1.Pod
	ip          string
	family      discoveryv1.AddressType
	ready       bool
	serving     bool
	terminating bool
	ports       []discoveryv1.EndpointPort
}

// selected reports whether svc selects pods (services without a selector
// have their endpoints managed by users).
func selected(svc *corev1.Service) bool { return len(svc.Spec.Selector) > 0 }

// serviceEndpoints lists the pods svc selects that have an IP, with their
// conditions and resolved ports. pods may hold any namespace.
func serviceEndpoints(svc *corev1.Service, pods []*corev1.Pod) []svcEndpoint {
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	var out []svcEndpoint
	for _, p := range pods {
		if p.Namespace != svc.Namespace || !sel.Matches(labels.Set(p.Labels)) || p.Status.PodIP == "" ||
			p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		ip, err := netip.ParseAddr(p.Status.PodIP)
		if err != nil {
			continue
		}
		e := svcEndpoint{pod: p, ip: ip.String(), family: discoveryv1.AddressTypeIPv4,
			serving: PodReady(p) || svc.Spec.PublishNotReadyAddresses, terminating: p.DeletionTimestamp != nil}
		if ip.Is6() {
			e.family = discoveryv1.AddressTypeIPv6
		}
		e.ready = e.serving && !e.terminating
		e.ports = resolvePorts(svc, p)
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ip < out[j].ip })
	return out
}

// resolvePorts maps the service's ports to p's: numeric targetPorts as
// they are, named ones through the containers' port names (ports that do
// not resolve are left out, as Kubernetes does).
func resolvePorts(svc *corev1.Service, p *corev1.Pod) []discoveryv1.EndpointPort {
	var out []discoveryv1.EndpointPort
	for _, sp := range svc.Spec.Ports {
		port, ok := targetPort(sp, p)
		if !ok {
			continue
		}
		name, proto := sp.Name, sp.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		out = append(out, discoveryv1.EndpointPort{Name: &name, Protocol: &proto, Port: &port, AppProtocol: sp.AppProtocol})
	}
	return out
}

func targetPort(sp corev1.ServicePort, p *corev1.Pod) (int32, bool) {
	tp := sp.TargetPort
	if tp.Type == intstr.Int {
		if tp.IntVal == 0 {
			return sp.Port, true
		}
		return tp.IntVal, true
	}
	for _, c := range p.Spec.Containers {
		for _, cp := range c.Ports {
			if cp.Name == tp.StrVal && (cp.Protocol == sp.Protocol || cp.Protocol == "" && sp.Protocol == corev1.ProtocolTCP) {
				return cp.ContainerPort, true
			}
		}
	}
	return 0, false
}

// portsKey identifies a set of resolved ports.
func portsKey(ports []discoveryv1.EndpointPort) string {
	var b strings.Builder
	for _, p := range ports {
		fmt.Fprintf(&b, "%s/%s/%d;", *p.Name, *p.Protocol, *p.Port)
	}
	return b.String()
}

// PlanEndpointSlices is the set of slices svc should have: one group per
// address family and resolved port set, split at 100 endpoints, each named
// <service>-<hash of its group and index>.
func PlanEndpointSlices(svc *corev1.Service, pods []*corev1.Pod) []*discoveryv1.EndpointSlice {
	groups := map[string][]svcEndpoint{}
	var keys []string
	for _, e := range serviceEndpoints(svc, pods) {
		k := string(e.family) + "|" + portsKey(e.ports)
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], e)
	}
	sort.Strings(keys)
	var out []*discoveryv1.EndpointSlice
	for _, k := range keys {
		eps := groups[k]
		for i := 0; i < len(eps); i += maxSliceEndpoints {
			chunk := eps[i:min(i+maxSliceEndpoints, len(eps))]
			out = append(out, newSlice(svc, k+"|"+strconv.Itoa(i), chunk))
		}
	}
	if len(out) == 0 {
		// An empty slice says "this service has no endpoints", as Kubernetes keeps one.
		out = append(out, newSlice(svc, "empty", nil))
		out[0].Ports = resolvePorts(svc, &corev1.Pod{})
	}
	return out
}

func newSlice(svc *corev1.Service, key string, eps []svcEndpoint) *discoveryv1.EndpointSlice {
	h := fnv.New32a()
	h.Write([]byte(key))
	s := &discoveryv1.EndpointSlice{
		TypeMeta: metav1.TypeMeta{Kind: "EndpointSlice", APIVersion: "discovery.k8s.io/v1"},
		ObjectMeta: metav1.ObjectMeta{
			Name: svc.Name + "-" + strconv.FormatUint(uint64(h.Sum32()), 36), Namespace: svc.Namespace,
			Labels:          map[string]string{discoveryv1.LabelServiceName: svc.Name, discoveryv1.LabelManagedBy: ManagedBy},
			OwnerReferences: []metav1.OwnerReference{ownerRef("v1", "Service", svc)},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
	}
	if len(eps) > 0 {
		s.AddressType, s.Ports = eps[0].family, eps[0].ports
	}
	for _, e := range eps {
		s.Endpoints = append(s.Endpoints, sliceEndpoint(e))
	}
	return s
}

func sliceEndpoint(e svcEndpoint) discoveryv1.Endpoint {
	ready, serving, terminating := e.ready, e.serving, e.terminating
	ep := discoveryv1.Endpoint{
		Addresses:  []string{e.ip},
		Conditions: discoveryv1.EndpointConditions{Ready: &ready, Serving: &serving, Terminating: &terminating},
		TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: e.pod.Namespace, Name: e.pod.Name, UID: e.pod.UID},
	}
	if n := e.pod.Spec.NodeName; n != "" {
		ep.NodeName = &n
	}
	if h := e.pod.Spec.Hostname; h != "" {
		ep.Hostname = &h
	}
	return ep
}
