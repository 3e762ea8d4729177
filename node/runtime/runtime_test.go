package runtime

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/namespaces"
	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/weirnet/weir/node/runtime/testimage"
	"github.com/weirnet/weir/tests/testutil"
)

type reports struct {
	mu      sync.Mutex
	last    map[string]corev1.PodStatus
	removed map[string]types.UID
	waiting map[string][]string // "ns/pod/container": the waiting reasons it went through
}

func (r *reports) report(p PodReport) {
	r.mu.Lock()
	r.last[p.Namespace+"/"+p.Name] = p.Status
	for _, cs := range p.Status.ContainerStatuses {
		k := p.Namespace + "/" + p.Name + "/" + cs.Name
		if w := cs.State.Waiting; w != nil && (len(r.waiting[k]) == 0 || r.waiting[k][len(r.waiting[k])-1] != w.Reason) {
			r.waiting[k] = append(r.waiting[k], w.Reason)
		}
	}
	if p.Removed {
		r.removed[p.Namespace+"/"+p.Name] = p.UID
	}
	r.mu.Unlock()
}

// removedUID is the UID of the pod's removed report ("" if none yet).
func (r *reports) removedUID(key string) types.UID {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.removed[key]
}

func (r *reports) get(key string) corev1.PodStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last[key]
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// testNode is a node netns, cgroup, weir-cni conflist and private containerd.
type testNode struct {
	ns      *testutil.Netns
	rt      *Runtime
	rep     *reports
	sock    string
	archive string // the test image's OCI archive
}

func newTestNode(t *testing.T) *testNode {
	cg := testutil.NewCgroup(t, "node")
	t.Cleanup(func() { removeV1Dirs(t, filepath.Base(cg)) })
	ns := testutil.NewNetns(t, "n")
	sock := testutil.StartContainerd(t) // its cleanup (containers gone) runs before the cgroup's
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if out, err := exec.Command("go", "build", "-o", filepath.Join(bin, "weir-cni"), "github.com/weirnet/weir/cmd/weir-cni").CombinedOutput(); err != nil {
		t.Fatalf("build weir-cni: %v: %s", err, out)
	}
	archive := filepath.Join(dir, "testimage.tar")
	if err := testimage.Build(context.Background(), archive); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "10-weir.conflist")
	list := fmt.Sprintf(`{"cniVersion":"1.1.0","name":"weir","plugins":[{"type":"weir-cni","podCIDR":"10.251.7.0/24","dataDir":%q,"attachPrograms":false,"agentSocket":%q}]}`,
		filepath.Join(dir, "ipam"), filepath.Join(dir, "no-agent.sock"))
	if err := os.WriteFile(conf, []byte(list), 0o644); err != nil {
		t.Fatal(err)
	}
	rep := &reports{last: map[string]corev1.PodStatus{}, removed: map[string]types.UID{}, waiting: map[string][]string{}}
	rt, err := New(Config{Address: sock, NodeName: "n1", CgroupRoot: cg, DataDir: filepath.Join(dir, "data"), CNIConfFile: conf,
		CNIBinDirs: []string{bin}, RuncRoot: filepath.Join(dir, "runc"), NodeNetns: "/run/netns/" + ns.Name, BackoffBase: 200 * time.Millisecond, Report: rep.report})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		rt.Sync(nil)
		deadline := time.Now().Add(30 * time.Second)
		for rt.Pods() > 0 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		rt.Close()
	})
	// ImportFile is what `weir image import` runs.
	if names, err := ImportFile(context.Background(), sock, "weir-n1", "overlayfs", archive); err != nil || len(names) != 1 || names[0] != testimage.Name {
		t.Fatalf("import: %v %v", names, err)
	}
	return &testNode{ns: ns, rt: rt, rep: rep, sock: sock, archive: archive}
}

// removeV1Dirs removes what runc made for the node in cgroup v1 hierarchies.
func removeV1Dirs(t *testing.T, rel string) {
	dirs, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", rel))
	for _, d := range dirs {
		if err := testutil.RemoveCgroup(d); err != nil {
			t.Errorf("remove %s: %v", d, err)
		}
	}
}

// get fetches url's path from host:port over a connection dialed inside
// the node netns (http.Transport would dial on other threads).
// killContainer SIGKILLs the task of one of the pod's containers, as an
// OOM kill or a crash would.
func (n *testNode) killContainer(t *testing.T, uid types.UID, name string) {
	t.Helper()
	ctx := namespaces.WithNamespace(context.Background(), "weir-n1")
	client, err := containerd.New(n.sock)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctr, err := client.LoadContainer(ctx, containerID(string(uid), name))
	if err != nil {
		t.Fatal(err)
	}
	task, err := ctr.Task(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := task.Kill(ctx, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
}

func (n *testNode) get(t *testing.T, hostport, path string) (string, error) {
	var conn net.Conn
	if err := n.ns.Do(func() (err error) { conn, err = net.DialTimeout("tcp", hostport, 3*time.Second); return err }); err != nil {
		return "", err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	req, _ := http.NewRequest("GET", "http://"+hostport+path, nil)
	req.Close = true
	if err := req.Write(conn); err != nil {
		return "", err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func testPod(name string, uid types.UID) corev1.Pod {
	grace := int64(5)
	return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: uid},
		Spec: corev1.PodSpec{NodeName: "n1", TerminationGracePeriodSeconds: &grace,
			Containers: []corev1.Container{{Name: "web", Image: testimage.Name, Args: []string{"-udp-echo="}}}}}
}

// TestPodLifecycle: a pod runs the test server, answers on its IP from the
// node netns, is restarted after a kill, and is removed with everything
// it had on delete.
func TestPodLifecycle(t *testing.T) {
	testutil.RequirePrivileged(t)
	n := newTestNode(t)
	pod := testPod("web-1", types.UID(uuid.NewString()))
	n.rt.Sync([]corev1.Pod{pod})
	running := func() bool {
		st := n.rep.get("default/web-1")
		return st.Phase == corev1.PodRunning && st.PodIP != "" && len(st.ContainerStatuses) == 1 && st.ContainerStatuses[0].Ready
	}
	waitFor(t, "pod running", 60*time.Second, running)
	ip := n.rep.get("default/web-1").PodIP
	var body string
	waitFor(t, "HTTP answer", 20*time.Second, func() bool {
		var err error
		if body, err = n.get(t, ip+":8080", "/"); body != "web-1" {
			pns := n.rt.newSandbox(&pod).netns
			a, _ := exec.Command("ip", "-n", pns, "-o", "addr").CombinedOutput()
			b, _ := n.ns.Exec("ip", "route")
			t.Logf("GET %s: %q %v\npod %s:\n%s\nnode routes:\n%s", ip, body, err, pns, a, b)
		}
		return body == "web-1"
	})
	if b, err := n.get(t, ip+":8080", "/healthz"); err != nil || b != "ok\n" {
		t.Fatalf("/healthz: %q %v", b, err)
	}

	// Kill the container: restarted, restartCount 1, answering again.
	n.killContainer(t, pod.UID, "web")
	waitFor(t, "restart", 30*time.Second, func() bool {
		st := n.rep.get("default/web-1")
		return running() && st.ContainerStatuses[0].RestartCount == 1
	})
	last := n.rep.get("default/web-1").ContainerStatuses[0].LastTerminationState.Terminated
	if last == nil || last.ExitCode != 137 {
		t.Errorf("last termination = %+v, want exit code 137", last)
	}
	waitFor(t, "HTTP after restart", 20*time.Second, func() bool { body, _ = n.get(t, ip+":8080", "/"); return body == "web-1" })

	// Delete: graceful stop (the server exits 0 on SIGTERM), all removed.
	start := time.Now()
	n.rt.Sync(nil)
	waitFor(t, "pod removed", 30*time.Second, func() bool { return n.rt.Pods() == 0 })
	if uid := n.rep.removedUID("default/web-1"); uid != pod.UID {
		t.Errorf("removed report for uid %q, want %q", uid, pod.UID)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("graceful stop took %v: SIGTERM was not honoured before the 5s grace period", d)
	}
	fin := n.rep.get("default/web-1").ContainerStatuses[0].State.Terminated
	if fin == nil || fin.ExitCode != 0 {
		t.Errorf("final state %+v, want terminated with exit code 0", n.rep.get("default/web-1").ContainerStatuses[0].State)
	}
	client, err := containerd.New(n.sock)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if cs, err := client.Containers(namespaces.WithNamespace(context.Background(), "weir-n1")); err != nil || len(cs) != 0 {
		t.Errorf("containers left: %d %v", len(cs), err)
	}
	if out, _ := exec.Command("ip", "netns", "list").Output(); strings.Contains(string(out), n.rt.newSandbox(&pod).netns) {
		t.Errorf("pod netns left: %s", out)
	}
	if links, _ := n.ns.Exec("ip", "-o", "link"); strings.Count(links, "weir") > 0 {
		t.Errorf("host veth left: %s", links)
	}
}
