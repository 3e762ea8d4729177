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

func describePod(d *describer, obj *unstructured.Unstructured, _ time.Time) error {
	pod, err := typed[corev1.Pod](obj)
	if err != nil {
		return err
	}
	d.line(0, "Node", orNone(pod.Spec.NodeName))
	if pod.Status.StartTime != nil {
		d.line(0, "Start Time", timestamp(*pod.Status.StartTime))
	}
	d.line(0, "Status", PodStatus(pod))
	d.line(0, "IP", orNone(pod.Status.PodIP))
	statuses := map[string]corev1.ContainerStatus{}
	for _, cs := range pod.Status.ContainerStatuses {
		statuses[cs.Name] = cs
	}
	if len(pod.Spec.InitContainers) > 0 {
		d.line(0, "Init Containers", "")
		describeContainers(d, pod.Spec.InitContainers, initStatuses(pod))
	}
	d.line(0, "Containers", "")
	describeContainers(d, pod.Spec.Containers, statuses)
	if len(pod.Status.Conditions) > 0 {
		d.line(0, "Conditions", "")
		d.row(1, "Type", "Status")
		for _, c := range pod.Status.Conditions {
			d.row(1, string(c.Type), string(c.Status))
		}
	}
	return nil
}

func initStatuses(pod *corev1.Pod) map[string]corev1.ContainerStatus {
	m := map[string]corev1.ContainerStatus{}
	for _, cs := range pod.Status.InitContainerStatuses {
		m[cs.Name] = cs
	}
	return m
}

func describeContainers(d *describer, cs []corev1.Container, statuses map[string]corev1.ContainerStatus) {
	for _, c := range cs {
		d.line(1, c.Name, "")
		d.line(2, "Image", c.Image)
		var ports []string
		for _, p := range c.Ports {
			proto := p.Protocol
			if proto == "" {
				proto = corev1.ProtocolTCP
			}
			ports = append(ports, fmt.Sprintf("%d/%s", p.ContainerPort, proto))
		}
		d.line(2, "Port", joinOrNone(ports))
		if len(c.Command) > 0 {
			d.line(2, "Command", strings.Join(c.Command, " "))
		}
		if len(c.Args) > 0 {
			d.line(2, "Args", strings.Join(c.Args, " "))
		}
		if st, ok := statuses[c.Name]; ok {
			d.line(2, "State", containerState(st.State))
			d.line(2, "Ready", fmt.Sprint(st.Ready))
			d.line(2, "Restart Count", fmt.Sprint(st.RestartCount))
		}
		var env []string
		for _, e := range c.Env {
			v := e.Value
			if e.ValueFrom != nil {
				v = "<set from a reference>"
			}
			env = append(env, e.Name+"="+v)
		}
		d.multi(2, "Environment", env)
	}
}

func containerState(s corev1.ContainerState) string {
	switch {
	case s.Running != nil:
		return "Running (since " + timestamp(s.Running.StartedAt) + ")"
	case s.Waiting != nil:
		return "Waiting (" + orNone(s.Waiting.Reason) + ")"
	case s.Terminated != nil:
		return fmt.Sprintf("Terminated (%s, exit code %d)", terminatedReason(s.Terminated), s.Terminated.ExitCode)
	}
	return "Waiting"
}

func describeService(d *describer, obj *unstructured.Unstructured, _ time.Time) error {
	svc, err := typed[corev1.Service](obj)
	if err != nil {
		return err
	}
	typ := svc.Spec.Type
	if typ == "" {
		typ = corev1.ServiceTypeClusterIP
	}
	d.line(0, "Selector", orNone(labels.Set(svc.Spec.Selector).String()))
	d.line(0, "Type", string(typ))
	d.line(0, "IP", orNone(svc.Spec.ClusterIP))
	if len(svc.Spec.ExternalIPs) > 0 {
		d.line(0, "External IPs", strings.Join(svc.Spec.ExternalIPs, ","))
	}
	for _, p := range svc.Spec.Ports {
		proto := p.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		d.line(0, "Port", fmt.Sprintf("%s %d/%s", orUnset(p.Name), p.Port, proto))
		d.line(0, "TargetPort", fmt.Sprintf("%s/%s", p.TargetPort.String(), proto))
		if p.NodePort != 0 {
			d.line(0, "NodePort", fmt.Sprintf("%s %d/%s", orUnset(p.Name), p.NodePort, proto))
		}
	}
	affinity := svc.Spec.SessionAffinity
	if affinity == "" {
		affinity = corev1.ServiceAffinityNone
	}
	d.line(0, "Session Affinity", string(affinity))
	return nil
}

func orUnset(s string) string {
	if s == "" {
		return "<unset>"
	}
	return s
}

func describeNode(d *describer, obj *unstructured.Unstructured, _ time.Time) error {
	node, err := typed[corev1.Node](obj)
	if err != nil {
		return err
	}
	d.line(0, "Roles", nodeRoles(node))
	d.line(0, "Status", NodeStatus(node))
	var taints []string
	for _, t := range node.Spec.Taints {
		taints = append(taints, t.ToString())
	}
	d.multi(0, "Taints", taints)
	d.line(0, "Unschedulable", fmt.Sprint(node.Spec.Unschedulable))
	d.line(0, "PodCIDR", orNone(node.Spec.PodCIDR))
	var addrs []string
	for _, a := range node.Status.Addresses {
		addrs = append(addrs, string(a.Type)+": "+a.Address)
	}
	d.multi(0, "Addresses", addrs)
	describeResources(d, "Capacity", node.Status.Capacity)
	describeResources(d, "Allocatable", node.Status.Allocatable)
	info := node.Status.NodeInfo
	d.line(0, "System Info", "")
	d.line(1, "Kernel Version", orNone(info.KernelVersion))
	d.line(1, "OS Image", orNone(info.OSImage))
	d.line(1, "Container Runtime Version", orNone(info.ContainerRuntimeVersion))
	d.line(1, "Kubelet Version", orNone(info.KubeletVersion))
	if len(node.Status.Conditions) > 0 {
		d.line(0, "Conditions", "")
		d.row(1, "Type", "Status", "Reason", "Message")
		d.row(1, "----", "------", "------", "-------")
		for _, c := range node.Status.Conditions {
			d.row(1, string(c.Type), string(c.Status), c.Reason, c.Message)
		}
	}
	return nil
}

func describeResources(d *describer, title string, rl corev1.ResourceList) {
	if len(rl) == 0 {
		return
	}
	d.line(0, title, "")
	names := make([]string, 0, len(rl))
	for n := range rl {
		names = append(names, string(n))
	}
	sort.Strings(names)
	for _, n := range names {
		q := rl[corev1.ResourceName(n)]
		d.line(1, n, q.String())
	}
}
