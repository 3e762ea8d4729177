package scheduler

import (
	corev1 "k8s.io/api/core/v1"
)

// Resources are the amounts the scheduler accounts for.
type Resources struct {
	MilliCPU int64
	Memory   int64
	Storage  int64 // ephemeral-storage
	Pods     int64
}

func (r *Resources) add(o Resources) {
	r.MilliCPU += o.MilliCPU
	r.Memory += o.Memory
	r.Storage += o.Storage
	r.Pods += o.Pods
}

func (r *Resources) sub(o Resources) {
	r.MilliCPU -= o.MilliCPU
	r.Memory -= o.Memory
	r.Storage -= o.Storage
	r.Pods -= o.Pods
}

// Defaults kube-scheduler assumes for scoring containers that request
// nothing, so that best-effort pods still spread.
const (
	defaultMilliCPU = 100
	defaultMemory   = 200 << 20
)

// hostPort is one host port a pod holds on its node.
type hostPort struct {
	ip       string
	protocol corev1.Protocol
	port     int32
}

// NodeInfo is a node with what its pods hold: the unit every filter and
// score looks at.
type NodeInfo struct {
	Node        *corev1.Node
	Allocatable Resources
	Requested   Resources // sum of the pods' requests; Pods is the pod count
	NonZero     Resources // requests with defaults for zero, for scoring
	Pods        []*corev1.Pod
	ports       map[hostPort]int
	antiPods    int // pods with required anti-affinity terms
	affPods     int // pods with pod affinity or preferred anti-affinity (hasPodAffinity)

	taintReasons []string // formatted lazily, see taintReason
}

// NewNodeInfo returns an empty NodeInfo of n.
func NewNodeInfo(n *corev1.Node) *NodeInfo {
	a := n.Status.Allocatable
	if len(a) == 0 {
		a = n.Status.Capacity
	}
	alloc := Resources{
		MilliCPU: a.Cpu().MilliValue(),
		Memory:   a.Memory().Value(),
		Storage:  a.StorageEphemeral().Value(),
		Pods:     a.Pods().Value(),
	}
	if _, ok := a[corev1.ResourceEphemeralStorage]; !ok {
		alloc.Storage = -1 // unknown: not checked
	}
	return &NodeInfo{Node: n, Allocatable: alloc}
}

// AddPod accounts for p on the node.
func (ni *NodeInfo) AddPod(p *corev1.Pod) {
	req, nz := podRequests(p)
	ni.Requested.add(req)
	ni.NonZero.add(nz)
	ni.Pods = append(ni.Pods, p)
	for _, hp := range podHostPorts(p) {
		if ni.ports == nil {
			ni.ports = map[hostPort]int{}
		}
		ni.ports[hp]++
	}
	if hasRequiredAntiAffinity(p) {
		ni.antiPods++
	}
	if hasPodAffinity(p) {
		ni.affPods++
	}
}

// RemovePod undoes AddPod for the pod with p's UID (or namespace/name).
func (ni *NodeInfo) RemovePod(p *corev1.Pod) bool {
	for i, q := range ni.Pods {
		if q.UID != p.UID || q.Namespace != p.Namespace || q.Name != p.Name {
			continue
		}
		req, nz := podRequests(q)
		ni.Requested.sub(req)
		ni.NonZero.sub(nz)
		for _, hp := range podHostPorts(q) {
			if ni.ports[hp]--; ni.ports[hp] <= 0 {
				delete(ni.ports, hp)
			}
		}
		if hasRequiredAntiAffinity(q) {
			ni.antiPods--
		}
		if hasPodAffinity(q) {
			ni.affPods--
		}
		last := len(ni.Pods) - 1
		ni.Pods[i] = ni.Pods[last]
		ni.Pods = ni.Pods[:last]
		return true
	}
	return false
}

// podRequests is what p asks for: the sum of its containers' requests, at
// least the largest init container's, plus its overhead; Pods is 1. nonZero
// uses kube-scheduler's defaults for containers without cpu/memory
// requests.
func podRequests(p *corev1.Pod) (req, nonZero Resources) {
	for i := range p.Spec.Containers {
		r, nz := containerRequests(&p.Spec.Containers[i])
		req.add(r)
		nonZero.add(nz)
	}
	for i := range p.Spec.InitContainers {
		r, nz := containerRequests(&p.Spec.InitContainers[i])
		req = maxResources(req, r)
		nonZero = maxResources(nonZero, nz)
	}
	if o := p.Spec.Overhead; o != nil {
		req.MilliCPU += o.Cpu().MilliValue()
		req.Memory += o.Memory().Value()
	}
	req.Pods, nonZero.Pods = 1, 1
	return req, nonZero
}

func containerRequests(c *corev1.Container) (req, nonZero Resources) {
	r := c.Resources.Requests
	if q, ok := r[corev1.ResourceCPU]; ok {
		req.MilliCPU = q.MilliValue()
	}
	if q, ok := r[corev1.ResourceMemory]; ok {
		req.Memory = q.Value()
	}
	if q, ok := r[corev1.ResourceEphemeralStorage]; ok {
		req.Storage = q.Value()
	}
	nonZero = req
	if _, ok := r[corev1.ResourceCPU]; !ok {
		nonZero.MilliCPU = defaultMilliCPU
	}
	if _, ok := r[corev1.ResourceMemory]; !ok {
		nonZero.Memory = defaultMemory
	}
	return req, nonZero
}

func maxResources(a, b Resources) Resources {
	return Resources{MilliCPU: max(a.MilliCPU, b.MilliCPU), Memory: max(a.Memory, b.Memory),
		Storage: max(a.Storage, b.Storage), Pods: max(a.Pods, b.Pods)}
}

func podHostPorts(p *corev1.Pod) []hostPort {
	var out []hostPort
	for _, c := range p.Spec.Containers {
		for _, cp := range c.Ports {
			if cp.HostPort <= 0 {
				continue
			}
			proto := cp.Protocol
			if proto == "" {
				proto = corev1.ProtocolTCP
			}
			ip := cp.HostIP
			if ip == "" {
				ip = "0.0.0.0"
			}
			out = append(out, hostPort{ip: ip, protocol: proto, port: cp.HostPort})
		}
	}
	return out
}
