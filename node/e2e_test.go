package node

import (
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/weirnet/weir/tests/testutil"
	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

func webService() *corev1.Service {
	return &corev1.Service{TypeMeta: metav1.TypeMeta{Kind: "Service", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.ServiceSpec{ClusterIP: "10.96.0.50", ClusterIPs: []string{"10.96.0.50"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(8080)}}}}
}

func webSlice(name string, ips ...string) *discoveryv1.EndpointSlice {
	port, proto, pname, ready := int32(8080), corev1.ProtocolTCP, "http", true
	s := &discoveryv1.EndpointSlice{TypeMeta: metav1.TypeMeta{Kind: "EndpointSlice", APIVersion: "discovery.k8s.io/v1"},
		ObjectMeta:  metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
		AddressType: discoveryv1.AddressTypeIPv4, Ports: []discoveryv1.EndpointPort{{Name: &pname, Port: &port, Protocol: &proto}}}
	for _, ip := range ips {
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}})
	}
	return s
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTwoNodes runs two node namespaces on a bridge, each with an agent,
// against an in-process control plane: routes, pods wired by weir-cni
// reaching each other, a ClusterIP service with a backend on each node
// reachable from both, endpoint propagation time, and an agent restart.
func TestTwoNodes(t *testing.T) {
	testutil.RequirePrivileged(t)
	testutil.RequireBinary(t, "busybox", exec.LookPath)
	bin := buildCNI(t)
	cp := startControlPlane(t)
	u := newUnderlay(t)
	nodes := []*testNode{newTestNode(t, u, cp, 1), newTestNode(t, u, cp, 2)}

	// Routes: each node routes the other's pod CIDR via its node IP.
	for i, n := range nodes {
		other := nodes[1-i]
		waitFor(t, n.name+" route to "+other.name, 20*time.Second, func() bool {
			out, _ := n.ns.Exec("ip", "route", "show", "proto", "0x57")
			return other.agent.PodCIDR() != "" && strings.Contains(out, other.agent.PodCIDR()+" via "+other.ip+" dev eth0")
		})
	}
	// Pods on each node reach each other by IP.
	pods := make([]*testutil.Netns, 2)
	ips := make([]string, 2)
	for i, n := range nodes {
		pods[i], ips[i] = n.addPod(t, bin, "c"+n.name)
		serve(t, pods[i], ":8080", "pod-"+n.name[:9])
	}
	for i := range nodes {
		got, err := fetch(pods[i], "", ips[1-i], "8080")
		if err != nil || got != "pod-"+nodes[1-i].name[:9] {
			t.Fatalf("pod on %s -> %s:8080 = %q, %v", nodes[i].name, ips[1-i], got, err)
		}
	}

	// A ClusterIP service with one backend per node, from both nodes.
	cp.put(t, "services", "default", "web", webService())
	rev := cp.put(t, "endpointslices.discovery.k8s.io", "default", "web-1", webSlice("web-1", ips...))
	for _, n := range nodes {
		waitFor(t, n.name+" slices applied", 20*time.Second, func() bool { return n.agent.Version(pb.Kind_KIND_ENDPOINTSLICES) >= rev })
	}
	for i, n := range nodes {
		seen := map[string]bool{}
		for j := 0; j < 40 && len(seen) < 2; j++ {
			got, err := fetch(pods[i], n.cgroup, "10.96.0.50", "80")
			if err != nil {
				t.Fatalf("from %s: 10.96.0.50:80: %q, %v", n.name, got, err)
			}
			seen[got] = true
		}
		if !seen["pod-weirnode1"] || !seen["pod-weirnode2"] {
			t.Errorf("from %s the service reached %v, want both backends", n.name, seen)
		}
	}

	// A new endpoint reaches every node: time from write to applied.
	var lat []time.Duration
	for round := 0; round < 5; round++ {
		start := time.Now()
		rev := cp.put(t, "endpointslices.discovery.k8s.io", "default", "web-2", webSlice("web-2", "10.244.9."+string(rune('1'+round))))
		for _, n := range nodes {
			waitFor(t, "endpoint applied", 10*time.Second, func() bool { return n.agent.Version(pb.Kind_KIND_ENDPOINTSLICES) >= rev })
		}
		lat = append(lat, time.Since(start))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	t.Logf("endpoint write -> applied on both nodes: min %v median %v max %v (goal 100ms)", lat[0], lat[2], lat[4])
	rev = cp.del(t, "endpointslices.discovery.k8s.io", "default", "web-2") // its addresses are not routed
	for _, n := range nodes {
		waitFor(t, "web-2 removed", 10*time.Second, func() bool { return n.agent.Version(pb.Kind_KIND_ENDPOINTSLICES) >= rev })
	}

	// Agent restart: the service keeps working while the agent is away and
	// after it adopted its pins and routes again.
	nodes[0].stop()
	nodes[0].stop = nil
	if got, err := fetch(pods[0], nodes[0].cgroup, "10.96.0.50", "80"); err != nil || !strings.HasPrefix(got, "pod-") {
		t.Errorf("service with the agent stopped: %q, %v", got, err)
	}
	nodes[0].start(t, cp)
	waitFor(t, "restarted agent synced", 20*time.Second, func() bool {
		return nodes[0].agent.Version(pb.Kind_KIND_ENDPOINTSLICES) > 0 && nodes[0].agent.Version(pb.Kind_KIND_ROUTES) > 0
	})
	if got, err := fetch(pods[0], "", ips[1], "8080"); err != nil || got != "pod-weirnode2" {
		t.Errorf("pod-to-pod after the agent restart: %q, %v", got, err)
	}
	if got, err := fetch(pods[0], nodes[0].cgroup, "10.96.0.50", "80"); err != nil || !strings.HasPrefix(got, "pod-") {
		t.Errorf("service after the agent restart: %q, %v", got, err)
	}
}
