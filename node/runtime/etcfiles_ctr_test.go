package runtime

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/weirnet/weir/tests/testutil"
)

// TestPodEtcFilesInContainer: in a real container, /etc/hosts carries the
// pod's FQDN (hostname and subdomain) and its hostAliases, and
// /etc/resolv.conf is dnsPolicy None's dnsConfig, as the kubelet writes
// them.
func TestPodEtcFilesInContainer(t *testing.T) {
	testutil.RequirePrivileged(t)
	n := newTestNode(t)
	pod := testPod("etc", types.UID(uuid.NewString()))
	pod.Namespace = "shop"
	pod.Spec.Hostname, pod.Spec.Subdomain = "web-0", "web"
	pod.Spec.HostAliases = []corev1.HostAlias{{IP: "10.0.0.1", Hostnames: []string{"db", "db.corp.example"}}}
	ndots := "2"
	pod.Spec.DNSPolicy = corev1.DNSNone
	pod.Spec.DNSConfig = &corev1.PodDNSConfig{Nameservers: []string{"192.0.2.53"}, Searches: []string{"corp.example"},
		Options: []corev1.PodDNSConfigOption{{Name: "ndots", Value: &ndots}}}
	pod.Spec.Containers[0].Command = []string{"/bin/sh", "-c", "while true; do sleep 1; done"}
	n.rt.Sync([]corev1.Pod{pod})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cat := func(path string) (int, string) {
		var out, errb testutil.SyncBuffer
		code, err := n.rt.Exec(ctx, pod.Namespace, pod.Name, pod.Spec.Containers[0].Name, []string{"cat", path}, ExecOptions{Stdout: &out, Stderr: &errb})
		if err != nil {
			return -1, err.Error()
		}
		return code, out.String() + errb.String()
	}
	var hosts string
	waitFor(t, "the pod's /etc/hosts", 90*time.Second, func() bool {
		code, out := cat("/etc/hosts")
		hosts = out
		return code == 0
	})
	ip := n.rep.get("shop/etc").PodIP
	for _, want := range []string{"# Kubernetes-managed hosts file.\n", "\n" + ip + "\tweb-0.web.shop.svc.cluster.local\tweb-0\n",
		"\n# Entries added by HostAliases.\n10.0.0.1\tdb\tdb.corp.example\n"} {
		if ip == "" || !strings.Contains(hosts, want) {
			t.Errorf("/etc/hosts in the container (pod IP %q):\n%s\nlacks %q", ip, hosts, want)
		}
	}
	if code, out := cat("/etc/resolv.conf"); code != 0 || out != "nameserver 192.0.2.53\nsearch corp.example\noptions ndots:2\n" {
		t.Errorf("/etc/resolv.conf in the container: %d %q", code, out)
	}
	var host testutil.SyncBuffer
	if code, err := n.rt.Exec(ctx, pod.Namespace, pod.Name, pod.Spec.Containers[0].Name, []string{"hostname"}, ExecOptions{Stdout: &host}); err != nil || code != 0 || host.String() != "web-0\n" {
		t.Errorf("hostname in the container: %d %v %q, want web-0", code, err, host.String())
	}
}
