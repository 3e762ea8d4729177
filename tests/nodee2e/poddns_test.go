package nodee2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/weirnet/weir/tests/testutil"
)

// checkPodDNS: each pod's resolv.conf names kube-dns's ClusterIP with the
// namespace's search path, and a process in the container's namespaces
// and cgroup resolves the Service through it.
func checkPodDNS(t *testing.T, nodes []*node, sock string, pods []corev1.Pod) {
	t.Helper()
	for _, n := range nodes {
		for _, p := range pods {
			if p.Spec.NodeName != n.name {
				continue
			}
			data, err := os.ReadFile(filepath.Join(n.dir, "pods", "pods", string(p.UID), "resolv.conf"))
			if err != nil || !strings.Contains(string(data), "nameserver 10.96.0.10") ||
				!strings.Contains(string(data), "search default.svc.cluster.local svc.cluster.local cluster.local") {
				t.Fatalf("pod %s resolv.conf: %q %v", p.Name, data, err)
			}
		}
		for _, pid := range taskPIDs(t, sock, "weir-"+n.name) {
			var out string
			waitFor(t, "a lookup from the container on "+n.name, 20*time.Second, func() bool {
				out, _ = inContainer(t, pid, "busybox", "nslookup", podsApp+".default.svc.cluster.local")
				return strings.Contains(out, podsSvc)
			})
		}
	}
}

// inContainer runs a command in the namespaces (net, mount, uts) and
// cgroup of the container process pid.
func inContainer(t *testing.T, pid uint32, args ...string) (string, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return "", err
	}
	var cg string
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "0::"); ok {
			cg = rest
		}
	}
	root, err := testutil.Cgroup2Root()
	if err != nil || cg == "" {
		return "", fmt.Errorf("cgroup v2 of %d: %q %v", pid, data, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	script := "echo $$ > " + filepath.Join(root, cg, "cgroup.procs") + " && exec nsenter -t " + fmt.Sprint(pid) + " -n -m -u " + strings.Join(args, " ")
	out, err := exec.CommandContext(ctx, "sh", "-c", script).CombinedOutput()
	return string(out), err
}
