package nodee2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	kruntime "k8s.io/apimachinery/pkg/runtime"

	"github.com/weirnet/weir/tests/testutil"
)

const staticManifest = `apiVersion: v1
kind: Pod
metadata:
  name: static-web
  labels: {app: static-web}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 2
  containers:
  - name: web
    image: weir/testimage:1
    args: ["-http=:18080", "-tcp-echo=", "-udp-echo="]
`

// TestStaticPod: a hostNetwork static pod from the agent's manifest dir
// runs while the control plane is down and answers on the node's address;
// once the member is back its mirror appears in the API, Running, with
// the static pod's UID; deleting the mirror through the API leaves the
// container alone and the mirror comes back; a restarted agent adopts the
// container; a static pod on the pod network gets an IP through weir-cni;
// removing the manifests stops the pods and deletes the mirrors.
func TestStaticPod(t *testing.T) {
	testutil.RequirePrivileged(t)
	for _, b := range []string{"containerd", "runc", "busybox", "nsenter"} {
		testutil.RequireBinary(t, b, exec.LookPath)
	}
	start := time.Now()
	c := newCluster(t)
	sock := testutil.StartContainerd(t)
	n := c.newNode(t, 1)
	importTestImage(t, sock, n.name)
	manifests := t.TempDir()
	// static-cni is on the pod network: it waits for the node's
	// registration (pod CIDR, CNI config), static-web does not.
	cniManifest := strings.NewReplacer("static-web", "static-cni", "  hostNetwork: true\n", "", ":18080", ":8080").Replace(staticManifest)
	for f, data := range map[string]string{"web.yaml": staticManifest, "cni.yaml": cniManifest} {
		if err := os.WriteFile(filepath.Join(manifests, f), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	uids := &uidSet{m: map[string]bool{}}
	t.Cleanup(func() { cleanUpPods(t, []*node{n}, sock, uids) })

	c.stopMember()
	c.startStaticAgent(t, n, sock, manifests)
	var body string
	waitFor(t, "the static pod answering on the node's address without a control plane", 60*time.Second, func() bool {
		body, _ = httpFromNode(n, "http://"+n.ip+":18080/")
		return body == n.name
	})
	pids := taskPIDs(t, sock, "weir-"+n.name)
	if len(pids) != 1 {
		t.Fatalf("containers %v, want the hostNetwork static pod's one", pids)
	}
	t.Logf("static pod running without the control plane: %v", time.Since(start).Round(time.Millisecond))

	c.startMember(t, false)
	c.waitReady(t)
	name := "static-web-" + n.name
	var mirror corev1.Pod
	waitFor(t, "the Running mirror pod in the API", 30*time.Second, func() bool {
		mirror = c.pod(t, name)
		return mirror.Status.Phase == corev1.PodRunning
	})
	ctrID := ""
	for id := range pids {
		ctrID = id
	}
	if !strings.HasPrefix(ctrID, string(mirror.UID)+"-") || mirror.Annotations["kubernetes.io/config.mirror"] == "" ||
		mirror.Annotations["kubernetes.io/config.source"] != "file" || mirror.Spec.NodeName != n.name || mirror.Status.PodIP != n.ip {
		t.Fatalf("mirror %+v status %+v; container %s", mirror.ObjectMeta, mirror.Status, ctrID)
	}

	// Deleted through the API: the container stays, the mirror returns.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	before := c.pod(t, name).ResourceVersion
	if err := c.api.Delete(ctx, gvrPods, "default", name); err != nil {
		t.Fatal(err)
	}
	// Once the DELETE returned, the mirror is gone or terminating; only
	// the agent's recreation makes it a live pod again.
	waitFor(t, "the mirror recreated", 30*time.Second, func() bool {
		p := c.pod(t, name)
		return p.UID == mirror.UID && p.DeletionTimestamp == nil && p.ResourceVersion != before && p.Status.Phase == corev1.PodRunning
	})
	if now := taskPIDs(t, sock, "weir-"+n.name); now[ctrID] != pids[ctrID] {
		t.Fatalf("after the mirror's deletion the containers are %v, want %v untouched", now, pids)
	}

	// A restarted agent derives the same UID and adopts the container.
	before = c.pod(t, name).ResourceVersion
	n.agent.kill(syscall.SIGTERM)
	c.startStaticAgent(t, n, sock, manifests)
	waitFor(t, "a status report from the restarted agent", 30*time.Second, func() bool {
		p := c.pod(t, name)
		return p.ResourceVersion != before && p.Status.Phase == corev1.PodRunning
	})
	if now := taskPIDs(t, sock, "weir-"+n.name); now[ctrID] != pids[ctrID] {
		t.Fatalf("after the agent's restart the containers are %v, want %v adopted", now, pids)
	}

	// The static pod on the pod network: an IP of the node's pod CIDR
	// through weir-cni, reachable from the node.
	cniName := "static-cni-" + n.name
	var cniPod corev1.Pod
	waitFor(t, "the pod-network static pod Running", 60*time.Second, func() bool {
		cniPod = c.pod(t, cniName)
		return cniPod.Status.Phase == corev1.PodRunning && cniPod.Status.PodIP != ""
	})
	uids.add(string(cniPod.UID))
	if !strings.HasPrefix(cniPod.Status.PodIP, "10.244.") {
		t.Fatalf("pod-network static pod IP %q, want one of the cluster CIDR 10.244.0.0/16", cniPod.Status.PodIP)
	}
	waitFor(t, "HTTP from the node to the pod-network static pod", 20*time.Second, func() bool {
		body, _ = httpFromNode(n, "http://"+cniPod.Status.PodIP+":8080/")
		return body == cniName
	})

	// The manifests go: the pods stop, the mirrors go.
	for _, f := range []string{"web.yaml", "cni.yaml"} {
		if err := os.Remove(filepath.Join(manifests, f)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the static pods stopped and their mirrors deleted", 30*time.Second, func() bool {
		k, err := containerCount(sock, "weir-"+n.name)
		return err == nil && k == 0 && c.pod(t, name).Name == "" && c.pod(t, cniName).Name == "" && !uids.anyNetns()
	})
	t.Logf("total %v", time.Since(start).Round(time.Millisecond))
}

// startStaticAgent is startPodAgent with a manifest dir polled every 500ms.
func (c *cluster) startStaticAgent(t *testing.T, n *node, sock, manifests string) {
	t.Helper()
	n.agent = startProc(t, "agent "+n.name, n.ns.Name, filepath.Join(n.dir, "agent.log"), c.weir, "agent",
		"--server", streamAddr, "--bootstrap-token-file", filepath.Join(c.dir, "bootstrap-token"),
		"--ca-file", filepath.Join(c.dir, "member", "ca.crt"), "--node-name", n.name, "--data-dir", n.dir,
		"--cgroup-root", n.cgroup, "--underlay-iface", "eth0", "--cni-conf-dir", filepath.Join(n.dir, "net.d"),
		"--agent-socket", filepath.Join(n.dir, "agent.sock"), "--heartbeat", "500ms",
		"--run-pods", "--containerd", sock, "--runc-root", filepath.Join(n.dir, "runc"),
		"--cni-bin-dir", filepath.Dir(c.cni), "--pod-backoff", "500ms", "--manifest-dir", manifests)
	t.Cleanup(func() { n.agent.kill(syscall.SIGTERM) })
}

// pod reads a pod of the default namespace (zero when it does not exist).
func (c *cluster) pod(t *testing.T, name string) corev1.Pod {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	u, err := c.api.Get(ctx, gvrPods, "default", name)
	if apierrors.IsNotFound(err) {
		return corev1.Pod{}
	}
	if err != nil {
		t.Logf("get pod %s: %v", name, err)
		return corev1.Pod{}
	}
	var p corev1.Pod
	if err := kruntime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &p); err != nil {
		t.Fatal(err)
	}
	return p
}
