package node

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weirnet/weir/control/nodestream"
	"github.com/weirnet/weir/control/store"
	"github.com/weirnet/weir/control/store/storetest"
	"github.com/weirnet/weir/dataplane"
	"github.com/weirnet/weir/tests/testutil"
)

// nodeToken is the bootstrap token the test agents join with.
const nodeToken = "abcdef.0123456789abcdef"

// controlPlane is an in-process store and node-stream server on loopback.
type controlPlane struct {
	st   *store.Store
	addr string
	ca   *nodestream.CA
}

func startControlPlane(t *testing.T) *controlPlane { t.Helper(); return startControlPlaneWith(t, nil) }

// startControlPlaneWith is startControlPlane with tune applied to the
// node-stream config; the bootstrap token nodeToken is valid for an hour.
func startControlPlaneWith(t *testing.T, tune func(*nodestream.Config)) *controlPlane {
	t.Helper()
	st := storetest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ca, err := nodestream.EnsureCA(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := ca.ServerTLS("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	cfg := nodestream.Config{Store: st, CA: ca, TLS: tc, Logger: storetest.Logger()}
	if tune != nil {
		tune(&cfg)
	}
	srv, err := nodestream.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close(); <-done })
	cp := &controlPlane{st: st, addr: ln.Addr().String(), ca: ca}
	sec, err := nodestream.BootstrapTokenSecret(nodeToken, time.Hour, "node tests")
	if err != nil {
		t.Fatal(err)
	}
	sec.Data = map[string][]byte{}
	for k, v := range sec.StringData { // as the API stores it
		sec.Data[k] = []byte(v)
	}
	sec.StringData = nil
	cp.put(t, "secrets", sec.Namespace, sec.Name, sec)
	return cp
}

func (cp *controlPlane) put(t *testing.T, res, ns, name string, obj any) uint64 {
	t.Helper()
	val, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	r, err := cp.st.Txn(context.Background(), store.Txn{ID: fmt.Sprint(time.Now().UnixNano(), name), Ops: []store.Op{{Kind: store.Put, Key: store.Key{Resource: res, Namespace: ns, Name: name}, Value: val}}})
	if err != nil {
		t.Fatal(err)
	}
	return r.Revision
}

func (cp *controlPlane) del(t *testing.T, res, ns, name string) uint64 {
	t.Helper()
	r, err := cp.st.Txn(context.Background(), store.Txn{ID: fmt.Sprint(time.Now().UnixNano(), "del", name), Ops: []store.Op{{Kind: store.Delete, Key: store.Key{Resource: res, Namespace: ns, Name: name}}}})
	if err != nil {
		t.Fatal(err)
	}
	return r.Revision
}

// testNode is a node netns on the underlay bridge with its agent.
type testNode struct {
	name, ip string
	ns       *testutil.Netns
	cgroup   string
	dir      string
	agent    *Agent
	stop     func()
}

// newUnderlay makes a bridge in its own netns.
func newUnderlay(t *testing.T) *testutil.Netns {
	u := testutil.NewNetns(t, "ul")
	u.Run(t, "ip", "link", "add", "br0", "type", "bridge")
	u.Run(t, "ip", "link", "set", "br0", "up")
	return u
}

func newTestNode(t *testing.T, u *testutil.Netns, cp *controlPlane, idx int) *testNode {
	t.Helper()
	n := &testNode{name: testutil.UniqueName(fmt.Sprintf("weirnode%d-", idx)), ip: fmt.Sprintf("192.168.77.%d", idx), dir: t.TempDir()}
	n.ns = testutil.NewNetns(t, fmt.Sprintf("n%d", idx))
	peer := fmt.Sprintf("ul%d", idx)
	u.Run(t, "ip", "link", "add", peer, "type", "veth", "peer", "name", "eth0", "netns", n.ns.Name)
	u.Run(t, "ip", "link", "set", peer, "master", "br0", "up")
	n.ns.Run(t, "ip", "addr", "add", n.ip+"/24", "dev", "eth0")
	n.ns.Run(t, "ip", "link", "set", "eth0", "up")
	n.cgroup = testutil.NewCgroup(t, fmt.Sprintf("n%d", idx))
	t.Cleanup(func() { // after the agent stopped: unpin and detach its dataplane
		if err := dataplane.Cleanup(dataplane.Config{Instance: n.name, CgroupPath: n.cgroup}); err != nil {
			t.Errorf("dataplane cleanup %s: %v", n.name, err)
		}
	})
	n.start(t, cp)
	return n
}

func (n *testNode) start(t *testing.T, cp *controlPlane) { t.Helper(); n.startMode(t, cp, "") }

// startMode runs the agent with route mode mode ("" = direct).
func (n *testNode) startMode(t *testing.T, cp *controlPlane, mode string) {
	t.Helper()
	a, err := New(Config{Server: cp.addr, BootstrapToken: nodeToken, CAPEM: cp.ca.CertPEM, NodeName: n.name,
		DataDir: n.dir, CgroupRoot: n.cgroup, UnderlayIface: "eth0", Netns: n.ns.Name, RouteMode: mode,
		CNIConfDir: filepath.Join(n.dir, "net.d"), AgentSocket: filepath.Join(n.dir, "agent.sock"),
		Heartbeat: 500 * time.Millisecond, Logger: storetest.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); a.Run(ctx) }()
	n.agent = a
	n.stop = func() { cancel(); <-done; a.Close() }
	t.Cleanup(func() {
		if n.stop != nil {
			n.stop()
		}
	})
}

// buildCNI builds weir-cni once per test.
func buildCNI(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "weir-cni")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/weirnet/weir/cmd/weir-cni").CombinedOutput(); err != nil {
		t.Fatalf("build weir-cni: %v: %s", err, out)
	}
	return bin
}

// addPod creates a pod netns and runs weir-cni ADD in the node's netns with
// the network config the agent wrote; it returns the pod and its IP.
func (n *testNode) addPod(t *testing.T, bin, id string) (*testutil.Netns, string) {
	t.Helper()
	pod := testutil.NewNetns(t, "p")
	data, err := os.ReadFile(filepath.Join(n.dir, "net.d", CNIConfName))
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		CNIVersion string           `json:"cniVersion"`
		Name       string           `json:"name"`
		Plugins    []map[string]any `json:"plugins"`
	}
	if err := json.Unmarshal(data, &list); err != nil {
		t.Fatal(err)
	}
	conf := list.Plugins[0]
	conf["cniVersion"], conf["name"] = list.CNIVersion, list.Name
	stdin, _ := json.Marshal(conf)
	run := func(verb string) []byte {
		cmd := exec.Command("nsenter", "--net=/run/netns/"+n.ns.Name, bin)
		cmd.Env = []string{"CNI_COMMAND=" + verb, "CNI_CONTAINERID=" + id, "CNI_NETNS=/run/netns/" + pod.Name,
			"CNI_IFNAME=eth0", "CNI_PATH=" + filepath.Dir(bin), "PATH=" + os.Getenv("PATH")}
		cmd.Stdin = bytes.NewReader(stdin)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("weir-cni %s %s: %v: %s", verb, id, err, out)
		}
		return out
	}
	var res struct {
		IPs []struct{ Address string } `json:"ips"`
	}
	if err := json.Unmarshal(run("ADD"), &res); err != nil || len(res.IPs) == 0 {
		t.Fatalf("ADD result: %v %v", err, res)
	}
	t.Cleanup(func() { run("DEL") })
	ip, _, _ := strings.Cut(res.IPs[0].Address, "/")
	return pod, ip
}

// serve answers every TCP connection on addr inside ns with name.
func serve(t *testing.T, ns *testutil.Netns, addr, name string) {
	t.Helper()
	var ln net.Listener
	if err := ns.Do(func() (err error) { ln, err = net.Listen("tcp", addr); return err }); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte(name + "\n"))
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
}

// fetch connects from a process in ns (and in cgroup when set) to addr and
// returns what the server said.
func fetch(ns *testutil.Netns, cgroup, host, port string) (string, error) {
	script := "exec busybox nc -w 2 " + host + " " + port
	if cgroup != "" {
		script = "echo $$ > " + filepath.Join(cgroup, "cgroup.procs") + " && " + script
	}
	out, err := exec.Command("nsenter", "--net=/run/netns/"+ns.Name, "sh", "-c", script).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}
