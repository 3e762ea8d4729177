package nodee2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/weirnet/weir/control/client"
	"github.com/weirnet/weir/dataplane"
	"github.com/weirnet/weir/node/runtime/testimage"
	"github.com/weirnet/weir/tests/testutil"
)

var (
	gvrPods        = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	gvrDeployments = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	gvrReplicaSets = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "replicasets"}
)

const (
	podsApp = "web-e2e"
	podsSvc = "10.96.0.60"
)

// TestDeploymentPodsRealRuntime: a Deployment of 2 replicas created
// through the API is placed by the scheduler, run by the agents through a
// real containerd with weir-cni, reported Running/Ready with pod IPs,
// listed by the EndpointSlice controller, and reached through its
// ClusterIP Service from both nodes; deleted, the pods stop and leave
// nothing behind.
func TestDeploymentPodsRealRuntime(t *testing.T) {
	testutil.RequirePrivileged(t)
	for _, b := range []string{"containerd", "runc", "busybox", "nsenter"} {
		testutil.RequireBinary(t, b, exec.LookPath)
	}
	start := time.Now()
	c := newCluster(t)
	sock := startContainerd(t)
	nodes := []*node{c.newNode(t, 1), c.newNode(t, 2)}
	importTestImage(t, sock, nodes[0].name, nodes[1].name)
	uids := &uidSet{m: map[string]bool{}}
	for _, n := range nodes {
		c.startPodAgent(t, n, sock)
	}
	t.Cleanup(func() { cleanUpPods(t, nodes, sock, uids) }) // runs before the cgroups and containerd go
	c.waitNodesReady(t, nodes)
	t.Logf("cluster, containerd and image ready in %v", time.Since(start).Round(time.Millisecond))

	c.createTyped(t, gvrServices, podsService())
	created := time.Now()
	c.createTyped(t, gvrDeployments, podsDeployment(2))
	var pods []corev1.Pod
	waitFor(t, "2 pods Running and Ready with IPs on both nodes", 90*time.Second, func() bool {
		pods = c.appPods(t, uids)
		return readyOnDistinctNodes(pods, 2)
	})
	t.Logf("Deployment created -> 2 pods Ready: %v", time.Since(created).Round(time.Millisecond))
	ips := map[string]bool{}
	for _, p := range pods {
		ips[p.Status.PodIP] = true
		if p.Status.PodIP != p.Status.PodIPs[0].IP || len(p.Status.ContainerStatuses) != 1 || !p.Status.ContainerStatuses[0].Ready {
			t.Errorf("pod %s status: %+v", p.Name, p.Status)
		}
	}
	waitFor(t, "EndpointSlice lists both ready pod IPs", 30*time.Second, func() bool { return c.sliceReady(t, ips) })

	for _, n := range nodes {
		seen := map[string]bool{}
		var last string
		deadline := time.Now().Add(30 * time.Second)
		for len(seen) < 2 && time.Now().Before(deadline) {
			out, err := httpFromNode(n, "http://"+podsSvc+"/")
			if err == nil {
				seen[out] = true
			} else {
				last = fmt.Sprintf("%q: %v", out, err)
			}
		}
		if len(seen) < 2 {
			for _, p := range pods {
				out, err := httpFromNode(n, "http://"+p.Status.PodIP+":8080/")
				t.Logf("from %s directly to pod %s (%s on %s): %q %v", n.name, p.Name, p.Status.PodIP, p.Spec.NodeName, out, err)
			}
			t.Fatalf("from %s the Service answered %v; last error %s", n.name, seen, last)
		}
		for _, p := range pods {
			if !seen[p.Name] {
				t.Errorf("from %s the Service answered %v, want the pod names %s and %s", n.name, seen, pods[0].Name, pods[1].Name)
			}
		}
	}

	c.checkAdoption(t, nodes[0], sock, pods)
	c.checkStatusAfterReconnect(t, nodes[1], sock, uids)

	// Deleted from the API: stopped gracefully, containers and netns gone.
	stop := time.Now()
	c.deleteApp(t)
	waitFor(t, "pods stopped and removed on both nodes", 40*time.Second, func() bool {
		for _, n := range nodes {
			if k, err := containerCount(sock, "weir-"+n.name); err != nil || k != 0 {
				return false
			}
		}
		return !uids.anyNetns()
	})
	t.Logf("deleted -> containers and netns gone: %v; total %v", time.Since(stop).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

// newNode is addNode without an agent: node netns on br0 and a cgroup.
func (c *cluster) newNode(t *testing.T, idx int) *node {
	t.Helper()
	n := &node{name: testutil.UniqueName(fmt.Sprintf("weirnode%d-", idx)), ip: fmt.Sprintf("192.168.77.%d", idx), dir: t.TempDir()}
	n.ns = testutil.NewNetns(t, fmt.Sprintf("n%d", idx))
	peer := fmt.Sprintf("ul%d", idx)
	c.ul.Run(t, "ip", "link", "add", peer, "type", "veth", "peer", "name", "eth0", "netns", n.ns.Name)
	c.ul.Run(t, "ip", "link", "set", peer, "master", "br0", "up")
	n.ns.Run(t, "ip", "addr", "add", n.ip+"/24", "dev", "eth0")
	n.ns.Run(t, "ip", "link", "set", "eth0", "up")
	n.cgroup = testutil.NewCgroup(t, fmt.Sprintf("n%d", idx))
	t.Cleanup(func() { // after the agent was killed: unpin and detach
		if err := dataplane.Cleanup(dataplane.Config{Instance: n.name, CgroupPath: n.cgroup}); err != nil {
			t.Errorf("dataplane cleanup %s: %v", n.name, err)
		}
	})
	return n
}

// startPodAgent runs `weir agent --run-pods` with the test's containerd.
func (c *cluster) startPodAgent(t *testing.T, n *node, sock string) {
	t.Helper()
	n.agent = startProc(t, "agent "+n.name, n.ns.Name, filepath.Join(n.dir, "agent.log"), c.weir, "agent",
		"--server", streamAddr, "--token-file", filepath.Join(c.dir, "member", "token"),
		"--ca-file", filepath.Join(c.dir, "member", "ca.crt"), "--node-name", n.name, "--data-dir", n.dir,
		"--cgroup-root", n.cgroup, "--underlay-iface", "eth0", "--cni-conf-dir", filepath.Join(n.dir, "net.d"),
		"--agent-socket", filepath.Join(n.dir, "agent.sock"), "--heartbeat", "500ms",
		"--run-pods", "--containerd", sock, "--runc-root", filepath.Join(n.dir, "runc"),
		"--cni-bin-dir", filepath.Dir(c.cni), "--pod-backoff", "500ms")
}

// uidSet records the UIDs of the test's pods, whose netns the runtime
// names weir-pod-<first 12 hex digits>.
type uidSet struct {
	mu sync.Mutex
	m  map[string]bool
}

func (u *uidSet) add(uid string) { u.mu.Lock(); u.m[uid] = true; u.mu.Unlock() }

func (u *uidSet) netnsNames() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []string
	for uid := range u.m {
		short := strings.ReplaceAll(uid, "-", "")
		out = append(out, "weir-pod-"+short[:min(12, len(short))])
	}
	sort.Strings(out)
	return out
}

func (u *uidSet) anyNetns() bool {
	out, _ := exec.Command("ip", "netns", "list").Output()
	for _, name := range u.netnsNames() {
		if strings.Contains(string(out), name) {
			return true
		}
	}
	return false
}

// cleanUpPods removes what a failed run may leave: agents first (so that
// nothing restarts the containers), then containers, pod netns and the
// v1 cgroup dirs runc made in hybrid mode.
func cleanUpPods(t *testing.T, nodes []*node, sock string, uids *uidSet) {
	for _, n := range nodes {
		n.agent.kill(syscall.SIGKILL)
	}
	removeAllContainers(t, sock)
	for _, name := range uids.netnsNames() {
		if _, err := exec.Command("ip", "netns", "pids", name).Output(); err == nil {
			_ = exec.Command("ip", "netns", "delete", name).Run()
		}
	}
	root, _ := testutil.Cgroup2Root()
	for _, n := range nodes {
		rel, _ := filepath.Rel(root, n.cgroup)
		dirs, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", rel)) // v1 hierarchies
		for _, d := range dirs {
			if d == n.cgroup {
				continue
			}
			if err := removeCgroupTree(d, false); err != nil {
				t.Errorf("remove %s: %v", d, err)
			}
		}
		if err := removeCgroupTree(n.cgroup, true); err != nil { // NewCgroup's cleanup removes the node dir
			t.Errorf("remove pod cgroups under %s: %v", n.cgroup, err)
		}
	}
}

// removeCgroupTree removes dir's sub-cgroups, deepest first, and dir
// itself unless keep.
func removeCgroupTree(dir string, keep bool) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil // gone already
	}
	for _, e := range entries {
		if e.IsDir() {
			if err := removeCgroupTree(filepath.Join(dir, e.Name()), false); err != nil {
				return err
			}
		}
	}
	if keep {
		return nil
	}
	return testutil.RemoveCgroup(dir)
}

// httpFromNode GETs url from the node netns, in the node's cgroup (so
// that its socket load balancer translates the ClusterIP).
func httpFromNode(n *node, url string) (string, error) {
	// Not wget -T: Debian's static busybox crashes with it.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	script := "echo $$ > " + filepath.Join(n.cgroup, "cgroup.procs") + " && exec busybox wget -q -O - " + url
	out, err := exec.CommandContext(ctx, "nsenter", "--net=/run/netns/"+n.ns.Name, "sh", "-c", script).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func podsService() *corev1.Service {
	return &corev1.Service{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: podsApp, Namespace: "default"},
		Spec: corev1.ServiceSpec{ClusterIP: podsSvc, Selector: map[string]string{"app": podsApp},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(8080)}}}}
}

// podsDeployment runs the test server, one replica per node.
func podsDeployment(replicas int32) *appsv1.Deployment {
	grace := int64(5)
	labels := map[string]string{"app": podsApp}
	return &appsv1.Deployment{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: podsApp, Namespace: "default"},
		Spec: appsv1.DeploymentSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{TerminationGracePeriodSeconds: &grace,
					Affinity: &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
						RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
							LabelSelector: &metav1.LabelSelector{MatchLabels: labels}, TopologyKey: "kubernetes.io/hostname"}}}},
					Containers: []corev1.Container{{Name: "web", Image: testimage.Name, ImagePullPolicy: corev1.PullNever,
						Args:  []string{"-udp-echo="},
						Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}}}}}}}}
}

func (c *cluster) createTyped(t *testing.T, gvr schema.GroupVersionResource, obj kruntime.Object) {
	t.Helper()
	m, err := kruntime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatal(err)
	}
	c.create(t, gvr, &unstructured.Unstructured{Object: m})
}

// appPods lists the Deployment's pods and records their UIDs.
func (c *cluster) appPods(t *testing.T, uids *uidSet) []corev1.Pod {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	list, err := c.api.List(ctx, gvrPods, "default", listApp())
	if err != nil {
		return nil
	}
	var pods []corev1.Pod
	for _, item := range list.Items {
		var p corev1.Pod
		if err := kruntime.DefaultUnstructuredConverter.FromUnstructured(item.Object, &p); err != nil {
			t.Fatalf("decode pod: %v", err)
		}
		uids.add(string(p.UID))
		pods = append(pods, p)
	}
	return pods
}

func readyOnDistinctNodes(pods []corev1.Pod, want int) bool {
	nodes := map[string]bool{}
	for _, p := range pods {
		ready := false
		for _, cd := range p.Status.Conditions {
			ready = ready || cd.Type == corev1.PodReady && cd.Status == corev1.ConditionTrue
		}
		if p.Status.Phase != corev1.PodRunning || !ready || p.Status.PodIP == "" || len(p.Status.PodIPs) == 0 {
			return false
		}
		nodes[p.Spec.NodeName] = true
	}
	return len(pods) == want && len(nodes) == want
}

// sliceReady: the Service's EndpointSlices list exactly ips, all ready.
func (c *cluster) sliceReady(t *testing.T, ips map[string]bool) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	list, err := c.api.List(ctx, gvrSlices, "default", listOpts("kubernetes.io/service-name="+podsApp))
	if err != nil {
		return false
	}
	got := map[string]bool{}
	for _, item := range list.Items {
		var s discoveryv1.EndpointSlice
		if err := kruntime.DefaultUnstructuredConverter.FromUnstructured(item.Object, &s); err != nil {
			t.Fatalf("decode EndpointSlice: %v", err)
		}
		for _, ep := range s.Endpoints {
			if ep.Conditions.Ready != nil && *ep.Conditions.Ready {
				for _, a := range ep.Addresses {
					got[a] = true
				}
			}
		}
	}
	if len(got) != len(ips) {
		return false
	}
	for ip := range ips {
		if !got[ip] {
			return false
		}
	}
	return true
}

// deleteApp deletes the Deployment, its ReplicaSets and its pods.
func (c *cluster) deleteApp(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.api.Delete(ctx, gvrDeployments, "default", podsApp); err != nil {
		t.Fatalf("delete Deployment: %v", err)
	}
	for _, gvr := range []schema.GroupVersionResource{gvrReplicaSets, gvrPods} {
		list, err := c.api.List(ctx, gvr, "default", listApp())
		if err != nil {
			t.Fatalf("list %s: %v", gvr.Resource, err)
		}
		for _, item := range list.Items {
			if err := c.api.Delete(ctx, gvr, "default", item.GetName()); err != nil && !strings.Contains(err.Error(), "not found") {
				t.Fatalf("delete %s %s: %v", gvr.Resource, item.GetName(), err)
			}
		}
	}
}

func listApp() client.ListOptions { return listOpts("app=" + podsApp) }

func listOpts(selector string) client.ListOptions { return client.ListOptions{LabelSelector: selector} }

// checkAdoption: kill -9 of an agent leaves its pods running; the
// restarted agent adopts them (same task PIDs, no restart) and the
// Service keeps answering.
func (c *cluster) checkAdoption(t *testing.T, n *node, sock string, pods []corev1.Pod) {
	t.Helper()
	before := taskPIDs(t, sock, "weir-"+n.name)
	if len(before) != 1 {
		t.Fatalf("%s runs %d containers, want 1", n.name, len(before))
	}
	n.agent.kill(syscall.SIGKILL)
	c.startPodAgent(t, n, sock)
	waitFor(t, n.name+" Ready again", 30*time.Second, func() bool { ok, _ := c.nodeReady(n.name); return ok })
	time.Sleep(time.Second) // the pods snapshot is applied and statuses sent
	if after := taskPIDs(t, sock, "weir-"+n.name); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("after the agent restart %s's tasks are %v, want the adopted %v", n.name, after, before)
	}
	seen := map[string]bool{}
	for i := 0; i < 40 && len(seen) < 2; i++ {
		if out, err := httpFromNode(n, "http://"+podsSvc+"/"); err == nil {
			seen[out] = true
		}
	}
	if len(seen) != 2 {
		t.Fatalf("after the agent restart the Service answered %v, want both pods", seen)
	}
}

// checkStatusAfterReconnect: a container killed while the control member
// is down restarts; the status reported meanwhile (restartCount 1) reaches
// the API once the member is back.
func (c *cluster) checkStatusAfterReconnect(t *testing.T, n *node, sock string, uids *uidSet) {
	t.Helper()
	c.stopMember()
	pids := taskPIDs(t, sock, "weir-"+n.name)
	for _, pid := range pids {
		if err := syscall.Kill(int(pid), syscall.SIGKILL); err != nil {
			t.Fatalf("kill the container on %s: %v", n.name, err)
		}
	}
	waitFor(t, "the container restarted on "+n.name, 20*time.Second, func() bool {
		now := taskPIDs(t, sock, "weir-"+n.name)
		return len(now) == 1 && fmt.Sprint(now) != fmt.Sprint(pids)
	})
	c.startMember(t, false)
	c.waitReady(t)
	waitFor(t, "restartCount 1 and Ready in the API", 30*time.Second, func() bool {
		for _, p := range c.appPods(t, uids) {
			if p.Spec.NodeName == n.name {
				cs := p.Status.ContainerStatuses
				return readyOnDistinctNodes([]corev1.Pod{p}, 1) && len(cs) == 1 && cs[0].RestartCount == 1
			}
		}
		return false
	})
}
