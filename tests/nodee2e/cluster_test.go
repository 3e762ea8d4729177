package nodee2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/client"
	"github.com/weirnet/weir/control/nodestream"
	"github.com/weirnet/weir/dataplane"
	"github.com/weirnet/weir/tests/testutil"
)

const (
	memberIP   = "192.168.77.254"
	apiAddr    = memberIP + ":6443"
	streamAddr = memberIP + ":9443"
)

// cluster is the underlay netns (bridge br0 and the control member) and
// the binaries.
type cluster struct {
	weir, cni string
	dir       string
	ul        *testutil.Netns
	member    *proc
	api       *client.Client
	// serverArgs are extra `weir server` flags (node lifecycle timings).
	serverArgs []string
}

func newCluster(t *testing.T, serverArgs ...string) *cluster {
	t.Helper()
	c := &cluster{dir: t.TempDir(), serverArgs: serverArgs}
	c.weir, c.cni = binaries(t)
	c.ul = testutil.NewNetns(t, "ul")
	c.ul.Run(t, "ip", "link", "add", "br0", "type", "bridge")
	c.ul.Run(t, "ip", "addr", "add", memberIP+"/24", "dev", "br0")
	c.ul.Run(t, "ip", "link", "set", "br0", "up")
	c.startMember(t, true)
	tok, err := os.ReadFile(filepath.Join(c.dir, "member", "token"))
	if err != nil {
		t.Fatal(err)
	}
	c.api, err = client.New(client.Config{Server: "https://" + proxyInto(t, c.ul, apiAddr), Token: strings.TrimSpace(string(tok)),
		CAFile: filepath.Join(c.dir, "member", "ca.crt"), Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.api.Close)
	c.waitReady(t)
	c.createBootstrapToken(t)
	return c
}

// createBootstrapToken writes DIR/bootstrap-token, a bootstrap token the
// agents join with (they never see the admin token).
func (c *cluster) createBootstrapToken(t *testing.T) {
	t.Helper()
	tok := nodestream.NewBootstrapToken()
	sec, err := nodestream.BootstrapTokenSecret(tok, time.Hour, "nodee2e")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.api.Kube().CoreV1().Secrets(sec.Namespace).Create(ctx, sec, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(c.dir, "bootstrap-token"), []byte(tok), 0o600); err != nil {
		t.Fatal(err)
	}
}

// startMember runs `weir server` in the underlay netns; the API and the
// node stream listen on the bridge address.
func (c *cluster) startMember(t *testing.T, bootstrap bool) {
	t.Helper()
	args := []string{"server", "--name", "m1", "--data-dir", filepath.Join(c.dir, "member"),
		"--listen", apiAddr, "--peer", "127.0.0.1:2380", "--node-listen", streamAddr, "--cluster-cidr", "10.244.0.0/16"}
	if bootstrap {
		args = append(args, "--bootstrap")
	}
	args = append(args, c.serverArgs...)
	c.member = startProc(t, "member", c.ul.Name, filepath.Join(c.dir, "member.log"), c.weir, args...)
	waitFor(t, "member token and ca.crt", 30*time.Second, func() bool {
		if c.member.exited() {
			t.Fatalf("weir server exited:\n%s", tail(c.member.log, 30))
		}
		_, err1 := os.Stat(filepath.Join(c.dir, "member", "token"))
		_, err2 := os.Stat(filepath.Join(c.dir, "member", "ca.crt"))
		return err1 == nil && err2 == nil
	})
}

// stopMember stops the member gracefully (SIGTERM) and waits.
func (c *cluster) stopMember() { c.member.kill(syscall.SIGTERM) }

// waitReady waits until the API answers with the default namespace.
func (c *cluster) waitReady(t *testing.T) {
	t.Helper()
	// /readyz: the member answers and its defaults (every system
	// namespace, the bootstrap RBAC policy) exist; "default" alone may be
	// there before kube-system.
	waitFor(t, "API ready", 30*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, err := c.api.Kube().CoreV1().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return err == nil
	})
}

// waitAgentsConnected waits until k agents hold an open node stream on
// the member (its weir_nodestream_connected_agents gauge): after a member
// restart each agent reconnects on its own backoff, up to seconds later.
func (c *cluster) waitAgentsConnected(t *testing.T, k int) {
	t.Helper()
	want := fmt.Sprintf("weir_nodestream_connected_agents %d", k)
	var last string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after 30s waiting for %q; last: %s", want, last)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		out, err := c.api.Kube().CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
		cancel()
		if err != nil {
			last = err.Error()
			continue
		}
		last = "no weir_nodestream_connected_agents in /metrics"
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(l, "weir_nodestream_connected_agents ") {
				last = l
			}
		}
		if last == want {
			return
		}
	}
}

// node is a node netns on br0 with its agent process.
type node struct {
	name, ip, dir, cgroup string
	ns                    *testutil.Netns
	agent                 *proc
}

func (c *cluster) addNode(t *testing.T, idx int) *node {
	t.Helper()
	n := &node{name: testutil.UniqueName(fmt.Sprintf("weirnode%d-", idx)), ip: fmt.Sprintf("192.168.77.%d", idx), dir: t.TempDir()}
	n.ns = testutil.NewNetns(t, fmt.Sprintf("n%d", idx))
	peer := fmt.Sprintf("ul%d", idx)
	c.ul.Run(t, "ip", "link", "add", peer, "type", "veth", "peer", "name", "eth0", "netns", n.ns.Name)
	c.ul.Run(t, "ip", "link", "set", peer, "master", "br0", "up")
	n.ns.Run(t, "ip", "addr", "add", n.ip+"/24", "dev", "eth0")
	n.ns.Run(t, "ip", "link", "set", "eth0", "up")
	n.cgroup = testutil.NewCgroup(t, fmt.Sprintf("n%d", idx))
	t.Cleanup(func() { // runs after the agent was killed: unpin and detach
		if err := dataplane.Cleanup(dataplane.Config{Instance: n.name, CgroupPath: n.cgroup}); err != nil {
			t.Errorf("dataplane cleanup %s: %v", n.name, err)
		}
	})
	c.startAgent(t, n)
	return n
}

// startAgent runs `weir agent` inside the node netns.
func (c *cluster) startAgent(t *testing.T, n *node) {
	t.Helper()
	n.agent = startProc(t, "agent "+n.name, n.ns.Name, filepath.Join(n.dir, "agent.log"), c.weir, "agent",
		"--server", streamAddr, "--bootstrap-token-file", filepath.Join(c.dir, "bootstrap-token"),
		"--ca-file", filepath.Join(c.dir, "member", "ca.crt"), "--node-name", n.name, "--data-dir", n.dir,
		"--cgroup-root", n.cgroup, "--underlay-iface", "eth0", "--cni-conf-dir", filepath.Join(n.dir, "net.d"),
		"--agent-socket", filepath.Join(n.dir, "agent.sock"), "--heartbeat", "500ms", "--metrics-addr", n.ip+":"+agentMetricsPort)
}

// agentMetricsPort is where each agent serves /metrics on its node address.
const agentMetricsPort = "9466"

// agentMetrics scrapes n's agent and returns its unlabelled samples by name.
func agentMetrics(t *testing.T, n *node) map[string]float64 {
	t.Helper()
	var conn net.Conn // dialled on the thread in the node netns (http.Get would dial from another)
	if err := n.ns.Do(func() (err error) {
		conn, err = net.DialTimeout("tcp", n.ip+":"+agentMetricsPort, 5*time.Second)
		return err
	}); err != nil {
		t.Fatalf("scrape %s's agent: %v", n.name, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	req, _ := http.NewRequest("GET", "http://"+n.ip+":"+agentMetricsPort+"/metrics", nil)
	if err := req.Write(conn); err != nil {
		t.Fatalf("scrape %s's agent: %v", n.name, err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		t.Fatalf("scrape %s's agent: %v", n.name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s's agent: %s, %v", n.name, resp.Status, err)
	}
	out := map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 || strings.HasPrefix(line, "#") || strings.Contains(f[0], "{") {
			continue
		}
		if v, err := strconv.ParseFloat(f[1], 64); err == nil {
			out[f[0]] = v
		}
	}
	return out
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
