package controllers

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PlanEndpoints is the core/v1 Endpoints object of svc: one subset per
// resolved port set, ready pods in addresses and the others (not
// terminating) in notReadyAddresses.
func PlanEndpoints(svc *corev1.Service, pods []*corev1.Pod) *corev1.Endpoints {
	ep := &corev1.Endpoints{
		TypeMeta: metav1.TypeMeta{Kind: "Endpoints", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Name: svc.Name, Namespace: svc.Namespace, Labels: copyMap(svc.Labels),
			OwnerReferences: []metav1.OwnerReference{ownerRef("v1", "Service", svc)}},
	}
	index := map[string]int{}
	for _, e := range serviceEndpoints(svc, pods) {
		if len(e.ports) == 0 || (e.terminating && !svc.Spec.PublishNotReadyAddresses) {
			continue
		}
		k := portsKey(e.ports)
		i, ok := index[k]
		if !ok {
			i = len(ep.Subsets)
			index[k] = i
			ss := corev1.EndpointSubset{}
			for _, p := range e.ports {
				ss.Ports = append(ss.Ports, corev1.EndpointPort{Name: *p.Name, Port: *p.Port, Protocol: *p.Protocol, AppProtocol: p.AppProtocol})
			}
			ep.Subsets = append(ep.Subsets, ss)
		}
		addr := corev1.EndpointAddress{IP: e.ip, Hostname: e.pod.Spec.Hostname,
			TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: e.pod.Namespace, Name: e.pod.Name, UID: e.pod.UID}}
		if n := e.pod.Spec.NodeName; n != "" {
			addr.NodeName = &n
		}
		if e.ready {
			ep.Subsets[i].Addresses = append(ep.Subsets[i].Addresses, addr)
		} else {
			ep.Subsets[i].NotReadyAddresses = append(ep.Subsets[i].NotReadyAddresses, addr)
		}
	}
	return ep
}
