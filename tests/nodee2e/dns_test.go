package nodee2e

import (
	"context"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/weirnet/weir/dns"
	"github.com/weirnet/weir/tests/testutil"
)

const dnsIP = "10.96.0.10" // the 10th address of the default service CIDR

// TestClusterDNSFromPod: the real `weir server` creates kube-system/kube-dns
// at 10.96.0.10 and lists both nodes' DNS listeners as its endpoints; real
// dig, run from a weir-cni pod in node 1's cgroup, reaches it through the
// eBPF load balancer over UDP (the reply seen from 10.96.0.10) and TCP,
// and with a weir-style resolv.conf (ip netns exec) resolves short names
// through the search path and the pod's dashed-IP name; a Service created later resolves too.
func TestClusterDNSFromPod(t *testing.T) {
	testutil.RequirePrivileged(t)
	testutil.RequireBinary(t, "dig", exec.LookPath)
	testutil.RequireBinary(t, "nsenter", exec.LookPath)
	testutil.RequireBinary(t, "ip", exec.LookPath)
	start := time.Now()
	c := newCluster(t)
	nodes := []*node{c.addNode(t, 1), c.addNode(t, 2)}
	c.waitNodesReady(t, nodes)
	n := nodes[0]
	waitFor(t, n.name+" conflist", 10*time.Second, func() bool {
		_, err := os.Stat(filepath.Join(n.dir, "net.d", "10-weir.conflist"))
		return err == nil
	})
	pod, podIP := c.addPod(t, n, "dns"+n.name)
	writeNetnsResolvConf(t, pod.Name, dns.PodResolvConf([]netip.Addr{netip.MustParseAddr(dnsIP)}, "default", "cluster.local"))
	c.create(t, gvrServices, service("web", "10.96.0.50"))
	waitFor(t, "kube-dns-nodes with both nodes ready", 20*time.Second, func() bool { return c.dnsNodesReady() == 2 })
	t.Logf("cluster with DNS endpoints up in %v", time.Since(start).Round(time.Millisecond))

	dig := func(args ...string) (string, error) { return digFrom(pod, n.cgroup, args...) }
	var out string
	waitFor(t, "web resolvable through 10.96.0.10", 20*time.Second, func() bool {
		out, _ = dig("@"+dnsIP, "+short", "web.default.svc.cluster.local", "A")
		return out == "10.96.0.50"
	})
	// Several queries so that both nodes' listeners answer (random backend).
	for i := 0; i < 6; i++ {
		for _, tr := range []string{"+notcp", "+tcp"} {
			out, err := dig("@"+dnsIP, tr, "WEB.default.svc.cluster.local", "A")
			if err != nil || !strings.Contains(out, "status: NOERROR") || !strings.Contains(out, "10.96.0.50") ||
				!strings.Contains(out, "SERVER: "+dnsIP+"#53") {
				t.Fatalf("dig %s web: %v\n%s", tr, err, out)
			}
		}
	}
	// Each node's listener (the endpoints behind 10.96.0.10) answers the pod.
	for _, nd := range nodes {
		if out, err := dig("@"+nd.ip, "+short", "web.default.svc.cluster.local"); out != "10.96.0.50" {
			t.Errorf("dig @%s (%s's listener) = %q, %v", nd.ip, nd.name, out, err)
		}
	}
	if out, _ := dig("@"+dnsIP, "+short", "kube-dns.kube-system.svc.cluster.local"); out != dnsIP {
		t.Errorf("kube-dns.kube-system = %q, want %s", out, dnsIP)
	}
	if out, _ := dig("@"+dnsIP, "nope.default.svc.cluster.local"); !strings.Contains(out, "status: NXDOMAIN") {
		t.Errorf("a missing service did not get NXDOMAIN:\n%s", out)
	}
	// The pod's resolv.conf: short names through the search path.
	for _, name := range []string{"web", "web.default", "web.default.svc"} {
		for _, tr := range []string{"+notcp", "+tcp"} {
			if out, err := dig("+search", tr, "+short", name); out != "10.96.0.50" {
				t.Errorf("dig +search %s %s = %q, %v", tr, name, out, err)
			}
		}
	}
	if out, err := dig("+search", "+short", "kubernetes.default"); out != "10.96.0.1" {
		t.Errorf("dig +search kubernetes.default = %q, %v (want the API service's ClusterIP 10.96.0.1)", out, err)
	}
	if out, err := dig("+search", "+short", "kube-dns.kube-system"); out != dnsIP {
		t.Errorf("dig +search kube-dns.kube-system = %q, %v", out, err)
	}
	dashed := strings.ReplaceAll(podIP, ".", "-") + ".default.pod.cluster.local"
	if out, err := dig("+short", dashed); out != podIP {
		t.Errorf("dig %s = %q, %v", dashed, out, err)
	}
	written := time.Now()
	c.create(t, gvrServices, service("late", "10.96.0.51"))
	waitFor(t, "late resolvable", 10*time.Second, func() bool {
		out, _ := dig("+search", "+short", "late")
		return out == "10.96.0.51"
	})
	t.Logf("service write -> resolved by dig from the pod: %v (dig process start included); total %v",
		time.Since(written).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

// digFrom runs dig from inside pod and the node's cgroup (so the node's
// socket load balancer applies), through `ip netns exec` so that the
// pod's /etc/netns/<pod>/resolv.conf is its /etc/resolv.conf.
func digFrom(pod *testutil.Netns, cgroup string, args ...string) (string, error) {
	script := "echo $$ > " + filepath.Join(cgroup, "cgroup.procs") + ` && exec ip netns exec "$0" dig +time=2 +tries=1 "$@"`
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "sh", append([]string{"-c", script, pod.Name}, args...)...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// writeNetnsResolvConf installs /etc/netns/<name>/resolv.conf, removed
// (with /etc/netns when it ends up empty) when the test ends.
func writeNetnsResolvConf(t *testing.T, name string, data []byte) {
	t.Helper()
	dir := filepath.Join("/etc/netns", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		os.RemoveAll(dir)
		os.Remove("/etc/netns") // only when empty
	})
	if err := os.WriteFile(filepath.Join(dir, "resolv.conf"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// dnsNodesReady counts the ready endpoints of kube-system/kube-dns-nodes.
func (c *cluster) dnsNodesReady() int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	obj, err := c.api.Get(ctx, gvrSlices, "kube-system", "kube-dns-nodes")
	if err != nil {
		return 0
	}
	var s discoveryv1.EndpointSlice
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &s); err != nil {
		return 0
	}
	ready := 0
	for _, e := range s.Endpoints {
		if e.Conditions.Ready != nil && *e.Conditions.Ready {
			ready++
		}
	}
	return ready
}
