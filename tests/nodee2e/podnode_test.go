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

	"github.com/weirnet/weir/dataplane"
	"github.com/weirnet/weir/tests/testutil"
)

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
		"--server", streamAddr, "--bootstrap-token-file", filepath.Join(c.dir, "bootstrap-token"),
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
	testutil.RemoveAllContainers(t, sock)
	for _, n := range nodes { // the tmpfs volumes the killed agent left (secret, projected, Memory emptyDir)
		testutil.UnmountUnder(t, n.dir)
	}
	// Also the pods the test never saw running: the runtime keeps a dir
	// per pod UID under the agent's data dir.
	for _, n := range nodes {
		dirs, _ := os.ReadDir(filepath.Join(n.dir, "pods", "pods"))
		for _, d := range dirs {
			if d.IsDir() {
				uids.add(d.Name())
			}
		}
	}
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
			if err := testutil.RemoveCgroup(d); err != nil {
				t.Errorf("remove %s: %v", d, err)
			}
		}
		// The pod cgroups under the node's go with it in NewCgroup's cleanup.
	}
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
