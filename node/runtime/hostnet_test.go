package runtime

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/weirnet/weir/node/runtime/testimage"
	"github.com/weirnet/weir/tests/testutil"
)

// TestHostNetworkPod: a hostNetwork pod joins the node's network
// namespace (no netns, no CNI): it sees the node's interfaces, answers on
// the node's address, reports it as its podIP, uses the host's
// resolv.conf, and its removal leaves the node's network alone.
func TestHostNetworkPod(t *testing.T) {
	testutil.RequirePrivileged(t)
	n := newTestNode(t)
	n.ns.Run(t, "ip", "link", "add", "weirhn0", "type", "veth", "peer", "name", "weirhn1")
	n.ns.Run(t, "ip", "addr", "add", "192.0.2.77/24", "dev", "weirhn0")
	n.ns.Run(t, "ip", "link", "set", "weirhn0", "up")
	n.rt.cfg.NodeIPs = []string{"192.0.2.77"} // what the agent passes: the node's addresses

	pod := testPod("hostnet-1", types.UID(uuid.NewString()))
	pod.Spec.HostNetwork = true
	grace := int64(1) // sh ignores SIGTERM
	pod.Spec.TerminationGracePeriodSeconds = &grace
	pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: "ifs", Image: testimage.Name,
		Command: []string{"sh", "-c", "cat /proc/net/dev; sleep 3600"}})
	n.rt.Sync([]corev1.Pod{pod})
	waitFor(t, "pod running with the node's IP", 60*time.Second, func() bool {
		st := n.rep.get("default/hostnet-1")
		return st.Phase == corev1.PodRunning && len(st.ContainerStatuses) == 2 && st.ContainerStatuses[1].Ready
	})
	if st := n.rep.get("default/hostnet-1"); st.PodIP != "192.0.2.77" || len(st.PodIPs) != 1 || st.PodIPs[0].IP != "192.0.2.77" {
		t.Fatalf("podIP %q podIPs %v, want the node's 192.0.2.77", st.PodIP, st.PodIPs)
	}
	sb := n.rt.newSandbox(&pod)
	if _, err := os.Stat(filepath.Join("/run/netns", sb.netns)); err == nil {
		t.Errorf("a hostNetwork pod got a netns of its own: %s", sb.netns)
	}
	var body string
	waitFor(t, "HTTP on the node's address", 20*time.Second, func() bool {
		body, _ = n.get(t, "192.0.2.77:8080", "/")
		return body == "n1"
	})
	waitFor(t, "the node's interfaces in the container", 10*time.Second, func() bool {
		data, _ := os.ReadFile(logPath(sb, "ifs"))
		return strings.Contains(string(data), "weirhn0:")
	})
	host, _ := os.ReadFile("/etc/resolv.conf")
	if got, _ := os.ReadFile(filepath.Join(sb.dir, "resolv.conf")); string(got) != string(host) {
		t.Errorf("resolv.conf %q, want the host's (dnsPolicy ClusterFirst on the host network)", got)
	}
	if hosts, _ := os.ReadFile(filepath.Join(sb.dir, "hosts")); !strings.Contains(string(hosts), "n1") {
		t.Errorf("hosts %q lacks the node name", hosts)
	}

	n.rt.Sync(nil)
	waitFor(t, "pod removed", 30*time.Second, func() bool { return n.rt.Pods() == 0 })
	if out, err := n.ns.Exec("ip", "-o", "addr", "show", "weirhn0"); err != nil || !strings.Contains(out, "192.0.2.77") {
		t.Fatalf("the node's interface after the pod's removal: %q %v", out, err)
	}
	if out, _ := exec.Command("ip", "netns", "list").Output(); strings.Contains(string(out), sb.netns) {
		t.Errorf("netns %s exists after removal", sb.netns)
	}
}

func TestResolvConfHostNetwork(t *testing.T) {
	host, _ := os.ReadFile("/etc/resolv.conf")
	pod := &corev1.Pod{Spec: corev1.PodSpec{HostNetwork: true}}
	pod.Namespace = "ns1"
	for _, tc := range []struct {
		policy corev1.DNSPolicy
		want   string
	}{
		{"", string(host)},
		{corev1.DNSClusterFirst, string(host)},
		{corev1.DNSDefault, string(host)},
		{corev1.DNSClusterFirstWithHostNet, "nameserver 10.96.0.10\nsearch ns1.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n"},
	} {
		pod.Spec.DNSPolicy = tc.policy
		if got := string(resolvConf(pod, "10.96.0.10", "cluster.local")); got != tc.want {
			t.Errorf("dnsPolicy %q: resolv.conf %q, want %q", tc.policy, got, tc.want)
		}
	}
}
