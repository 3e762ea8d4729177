package printers

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
)

var serviceTable = table{
	headers: []string{"NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"},
	wide:    []string{"SELECTOR"},
	row: func(obj *unstructured.Unstructured, now time.Time) ([]string, []string, error) {
		svc, err := typed[corev1.Service](obj)
		if err != nil {
			return nil, nil, err
		}
		typ := svc.Spec.Type
		if typ == "" {
			typ = corev1.ServiceTypeClusterIP
		}
		cols := []string{svc.Name, string(typ), orNone(svc.Spec.ClusterIP), externalIP(svc),
			ServicePorts(svc.Spec.Ports), age(svc.CreationTimestamp, now)}
		return cols, []string{orNone(labels.Set(svc.Spec.Selector).String())}, nil
	},
}

func externalIP(svc *corev1.Service) string {
	switch svc.Spec.Type {
	case corev1.ServiceTypeExternalName:
		return svc.Spec.ExternalName
	case corev1.ServiceTypeLoadBalancer:
		ips := append([]string(nil), svc.Spec.ExternalIPs...)
		for _, in := range svc.Status.LoadBalancer.Ingress {
			if in.IP != "" {
				ips = append(ips, in.IP)
			} else if in.Hostname != "" {
				ips = append(ips, in.Hostname)
			}
		}
		if len(ips) == 0 {
			return "<pending>"
		}
		return strings.Join(ips, ",")
	}
	return joinOrNone(svc.Spec.ExternalIPs)
}

// ServicePorts is kubectl's PORT(S): "80/TCP,443:30443/TCP".
func ServicePorts(ports []corev1.ServicePort) string {
	out := make([]string, 0, len(ports))
	for _, p := range ports {
		proto := p.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		if p.NodePort != 0 {
			out = append(out, fmt.Sprintf("%d:%d/%s", p.Port, p.NodePort, proto))
		} else {
			out = append(out, fmt.Sprintf("%d/%s", p.Port, proto))
		}
	}
	return joinOrNone(out)
}

var nodeTable = table{
	headers: []string{"NAME", "STATUS", "ROLES", "AGE", "VERSION"},
	wide:    []string{"INTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"},
	row: func(obj *unstructured.Unstructured, now time.Time) ([]string, []string, error) {
		node, err := typed[corev1.Node](obj)
		if err != nil {
			return nil, nil, err
		}
		info := node.Status.NodeInfo
		cols := []string{node.Name, NodeStatus(node), nodeRoles(node), age(node.CreationTimestamp, now), orNone(info.KubeletVersion)}
		wide := []string{orNone(nodeAddress(node, corev1.NodeInternalIP)), orNone(info.OSImage),
			orNone(info.KernelVersion), orNone(info.ContainerRuntimeVersion)}
		return cols, wide, nil
	},
}

// NodeStatus is Ready, NotReady or Unknown from the Ready condition, with
// ",SchedulingDisabled" for cordoned nodes.
func NodeStatus(node *corev1.Node) string {
	status := "Unknown"
	for _, c := range node.Status.Conditions {
		if c.Type != corev1.NodeReady {
			continue
		}
		switch c.Status {
		case corev1.ConditionTrue:
			status = "Ready"
		case corev1.ConditionFalse:
			status = "NotReady"
		}
	}
	if node.Spec.Unschedulable {
		status += ",SchedulingDisabled"
	}
	return status
}

func nodeRoles(node *corev1.Node) string {
	const prefix = "node-role.kubernetes.io/"
	var roles []string
	for k := range node.Labels {
		if r, ok := strings.CutPrefix(k, prefix); ok && r != "" {
			roles = append(roles, r)
		}
	}
	sort.Strings(roles)
	return joinOrNone(roles)
}

func nodeAddress(node *corev1.Node, typ corev1.NodeAddressType) string {
	for _, a := range node.Status.Addresses {
		if a.Type == typ {
			return a.Address
		}
	}
	return ""
}

var namespaceTable = table{
	headers: []string{"NAME", "STATUS", "AGE"},
	row: func(obj *unstructured.Unstructured, now time.Time) ([]string, []string, error) {
		ns, err := typed[corev1.Namespace](obj)
		if err != nil {
			return nil, nil, err
		}
		phase := string(ns.Status.Phase)
		if phase == "" {
			phase = string(corev1.NamespaceActive)
		}
		return []string{ns.Name, phase, age(ns.CreationTimestamp, now)}, nil, nil
	},
}
