package cni_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	weircni "github.com/weirnet/weir/cni"
	"github.com/weirnet/weir/cni/ipam"
	"github.com/weirnet/weir/node/runtime"
	"github.com/weirnet/weir/node/runtime/testimage"
	"github.com/weirnet/weir/tests/testutil"
)

// criNode is a node netns running a private containerd 1.6 with its CRI
// plugin using weir-cni; the host side of every pod lands in the netns.
type criNode struct {
	ns      *testutil.Netns
	dir     string // containerd root, state, config, logs, CNI dirs
	dataDir string // weir-cni IPAM store
	sock    string
	cgroup  string // cgroup parent of the pods, relative to each hierarchy
	conn    *grpc.ClientConn
	rt      runtimeapi.RuntimeServiceClient
}

// criConfig is containerd's config: CRI on, weir-cni from binDir/confDir,
// the test image as sandbox image, pod netns mounts under the state dir.
const criConfig = `version = 2
root = %[1]q
state = %[2]q
[grpc]
  address = %[3]q
[ttrpc]
  address = "%[3]s.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %[4]q
  netns_mounts_under_state_dir = true
  disable_apparmor = true
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = %[5]q
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = %[6]q
    conf_dir = %[7]q
    max_conf_num = 1
`

// startCRINode builds the CNI dirs and starts containerd inside a new node
// netns (nsenter switches only the network namespace, so mounts stay
// visible to the test). Cleanup removes every pod, stops containerd by PID
// and unmounts what it left.
func startCRINode(t *testing.T, ctx context.Context) *criNode {
	t.Helper()
	testutil.RequireBinary(t, "containerd", exec.LookPath)
	testutil.RequireBinary(t, "runc", exec.LookPath)
	cg := testutil.NewCgroup(t, "cri")
	t.Cleanup(func() { removeV1Cgroups(t, filepath.Base(cg)) })
	n := &criNode{ns: testutil.NewNetns(t, "n"), cgroup: "/" + filepath.Base(cg)}
	dir, err := os.MkdirTemp("/tmp", "weir-cri-")
	if err != nil {
		t.Fatal(err)
	}
	n.dir, n.dataDir, n.sock = dir, filepath.Join(dir, "ipam"), filepath.Join(dir, "containerd.sock")
	bin, conf := filepath.Join(dir, "bin"), filepath.Join(dir, "net.d")
	for _, d := range []string{bin, conf} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(t, pluginBinary(t), filepath.Join(bin, "weir-cni"))
	copyFile(t, "/usr/lib/cni/loopback", filepath.Join(bin, "loopback")) // containerd's CRI sets up lo with it
	// containerd 1.6 vendors libcni 1.1, which speaks spec 1.0.0 at most.
	list := fmt.Sprintf(`{"cniVersion":"1.0.0","name":"weir","plugins":[{"type":"weir-cni","podCIDR":"10.244.7.0/24","dataDir":%q,"agentSocket":%q}]}`,
		n.dataDir, filepath.Join(dir, "no-agent.sock"))
	if err := os.WriteFile(filepath.Join(conf, "10-weir.conflist"), []byte(list), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(criConfig, filepath.Join(dir, "root"), filepath.Join(dir, "state"), n.sock, testimage.Name,
		filepath.Join(dir, "runc"), bin, conf)
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "containerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("nsenter", "--net=/run/netns/"+n.ns.Name, "containerd", "--config", filepath.Join(dir, "config.toml"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start containerd: %v", err)
	}
	t.Cleanup(func() { n.stop(t, cmd, logf) })
	n.connect(t, ctx)
	return n
}

// connect dials the CRI socket and waits for the runtime and network
// (weir-cni's config loaded) to be ready.
func (n *criNode) connect(t *testing.T, ctx context.Context) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(n.sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("containerd did not create %s in 20s; see %s/containerd.log", n.sock, n.dir)
		}
		time.Sleep(50 * time.Millisecond)
	}
	conn, err := grpc.NewClient("unix://"+n.sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	n.conn, n.rt = conn, runtimeapi.NewRuntimeServiceClient(conn) // closed by stop
	var last string
	for time.Now().Before(deadline) {
		st, err := n.rt.Status(ctx, &runtimeapi.StatusRequest{})
		ready := 0
		if err == nil {
			for _, c := range st.GetStatus().GetConditions() {
				if c.Status && (c.Type == runtimeapi.RuntimeReady || c.Type == runtimeapi.NetworkReady) {
					ready++
				}
			}
			last = fmt.Sprint(st.GetStatus().GetConditions())
		} else {
			last = err.Error()
		}
		if ready == 2 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("CRI not ready in 20s: %s", last)
}

// stop removes the pods left by a failed test, stops containerd by PID,
// unmounts what it left and removes its dir.
func (n *criNode) stop(t *testing.T, cmd *exec.Cmd, logf *os.File) {
	if n.rt != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if list, err := n.rt.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{}); err == nil {
			for _, sb := range list.Items {
				if _, err := n.rt.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: sb.Id}); err != nil {
					t.Errorf("cleanup: stop sandbox %s: %v", sb.Id, err)
				}
				if _, err := n.rt.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: sb.Id}); err != nil {
					t.Errorf("cleanup: remove sandbox %s: %v", sb.Id, err)
				}
			}
		}
		cancel()
		n.conn.Close()
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
	logf.Close()
	killShims(t, n.sock)
	testutil.UnmountUnder(t, n.dir)
	if t.Failed() {
		if b, err := os.ReadFile(logf.Name()); err == nil {
			if len(b) > 6000 {
				b = b[len(b)-6000:]
			}
			t.Logf("containerd log tail:\n%s", b)
		}
	}
	if err := os.RemoveAll(n.dir); err != nil {
		t.Errorf("remove %s: %v", n.dir, err)
	}
}

// allocations lists the node's IPAM store.
func (n *criNode) allocations(t *testing.T) []ipam.Allocation {
	t.Helper()
	var all []ipam.Allocation
	if err := ipam.With(n.dataDir, "weir", ipam.Options{}, func(s *ipam.Store) (err error) { all, err = s.List(); return err }); err != nil {
		t.Fatal(err)
	}
	return all
}

// execSync runs argv in a CRI container and returns its stdout.
func (n *criNode) execSync(t *testing.T, ctx context.Context, id string, argv ...string) (string, error) {
	t.Helper()
	r, err := n.rt.ExecSync(ctx, &runtimeapi.ExecSyncRequest{ContainerId: id, Cmd: argv, Timeout: 10})
	if err != nil {
		return "", err
	}
	if r.ExitCode != 0 {
		return string(r.Stdout), fmt.Errorf("%v: exit %d: %s", argv, r.ExitCode, r.Stderr)
	}
	return string(r.Stdout), nil
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatalf("read %s (install containernetworking-plugins for loopback): %v", from, err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

func killShims(t *testing.T, sock string) {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil || !strings.Contains(string(b), "containerd-shim") || !strings.Contains(string(b), "\x00"+sock+"\x00") {
			continue
		}
		var pid int
		if _, err := fmt.Sscanf(p, "/proc/%d/cmdline", &pid); err == nil {
			t.Logf("killing leftover shim %d", pid)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// removeV1Cgroups removes what runc made for the pods in cgroup v1 hierarchies.
func removeV1Cgroups(t *testing.T, rel string) {
	dirs, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", rel))
	for _, d := range dirs {
		subs, _ := filepath.Glob(filepath.Join(d, "*", "cgroup.procs"))
		for _, s := range subs {
			_ = testutil.RemoveCgroup(filepath.Dir(s))
		}
		if err := testutil.RemoveCgroup(d); err != nil {
			t.Errorf("remove %s: %v", d, err)
		}
	}
}

// remotePod is a pod on a second node: a weir-cni ADD (env + stdin) in
// another node netns, joined to the CRI node by a veth underlay, running
// weir-testserver. It returns the pod's address and netns.
func remotePod(t *testing.T, ctx context.Context, cri *criNode) (netip.Addr, *testutil.Netns) {
	t.Helper()
	n2 := newNode(t)
	pod := testutil.NewNetns(t, "p")
	conf := n2.conf("1.1.0", map[string]any{"podCIDR": "10.244.8.0/24"})
	add := call{cmd: "ADD", id: "remote-pod", netns: "/run/netns/" + pod.Name, ifname: "eth0", stdin: conf}
	res := n2.run(add).ok(t, "remote ADD").result(t)
	t.Cleanup(func() { del := add; del.cmd = "DEL"; n2.run(del).ok(t, "remote DEL") })
	if len(res.IPs) != 1 {
		t.Fatalf("remote ADD: %d IPs", len(res.IPs))
	}
	ip, _ := netip.AddrFromSlice(res.IPs[0].Address.IP.To4())

	// Underlay: 172.30.77.1 (CRI node) <-> 172.30.77.2 (remote node), each
	// routing the other's pod CIDR through it.
	a, b := testutil.UniqueName("weiru"), testutil.UniqueName("weirv")
	for _, argv := range [][]string{
		{"ip", "-n", cri.ns.Name, "link", "add", a, "type", "veth", "peer", "name", b, "netns", n2.host.Name},
		{"ip", "-n", cri.ns.Name, "addr", "add", "172.30.77.1/30", "dev", a},
		{"ip", "-n", n2.host.Name, "addr", "add", "172.30.77.2/30", "dev", b},
		{"ip", "-n", cri.ns.Name, "link", "set", a, "up"},
		{"ip", "-n", n2.host.Name, "link", "set", b, "up"},
		{"ip", "-n", cri.ns.Name, "route", "add", "10.244.8.0/24", "via", "172.30.77.2"},
		{"ip", "-n", n2.host.Name, "route", "add", "10.244.7.0/24", "via", "172.30.77.1"},
	} {
		if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v: %s", argv, err, out)
		}
	}

	server, err := testimage.BuildServer(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("nsenter", "--net=/run/netns/"+pod.Name, server, "-http", ":8080", "-tcp-echo=", "-udp-echo=", "-reply", "remote-pod")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return ip, pod
}

// TestCRIContainerd: containerd 1.6's CRI plugin runs a pod whose network
// weir-cni sets up (address from weir's IPAM, host veth in the node
// netns); a container in it reaches a pod on another node and is reached
// from the node and from that pod; removing the sandbox runs weir-cni DEL.
func TestCRIContainerd(t *testing.T) {
	testutil.RequirePrivileged(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cri := startCRINode(t, ctx)
	archive := filepath.Join(t.TempDir(), "testimage.tar")
	if err := testimage.Build(ctx, archive); err != nil {
		t.Fatal(err)
	}
	if names, err := runtime.ImportFile(ctx, cri.sock, "k8s.io", "overlayfs", archive); err != nil || len(names) != 1 {
		t.Fatalf("import test image into k8s.io: %v %v", names, err)
	}
	remote, remoteNS := remotePod(t, ctx, cri)

	// The sandbox runs the image's entrypoint (weir-testserver on :8080,
	// answering the sandbox hostname); the container a second server.
	sbCfg := &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: "cri-pod", Namespace: "default", Uid: testutil.UniqueName("uid")},
		Hostname:     "cri-pod",
		LogDirectory: filepath.Join(cri.dir, "logs"),
		Linux: &runtimeapi.LinuxPodSandboxConfig{CgroupParent: cri.cgroup, SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{
			NamespaceOptions: &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_POD}}},
	}
	sb, err := cri.rt.RunPodSandbox(ctx, &runtimeapi.RunPodSandboxRequest{Config: sbCfg})
	if err != nil {
		t.Fatalf("RunPodSandbox: %v", err)
	}
	st, err := cri.rt.PodSandboxStatus(ctx, &runtimeapi.PodSandboxStatusRequest{PodSandboxId: sb.PodSandboxId})
	if err != nil {
		t.Fatal(err)
	}
	ip, err := netip.ParseAddr(st.GetStatus().GetNetwork().GetIp())
	if err != nil || !netip.MustParsePrefix("10.244.7.0/24").Contains(ip) {
		t.Fatalf("sandbox IP %q (%v), want one from weir-cni's 10.244.7.0/24", st.GetStatus().GetNetwork().GetIp(), err)
	}
	allocs := cri.allocations(t)
	if len(allocs) != 1 || allocs[0].Addr != ip || allocs[0].Key.ContainerID != sb.PodSandboxId || allocs[0].Key.IfName != "eth0" {
		t.Fatalf("IPAM after RunPodSandbox = %+v, want %s for %s/eth0", allocs, ip, sb.PodSandboxId)
	}
	hostVeth := weircni.HostVethName(sb.PodSandboxId, "eth0")
	if l := links(t, cri.ns.Name); !contains(l, hostVeth) {
		t.Fatalf("node netns links %v lack host veth %s", l, hostVeth)
	}

	ctr, err := cri.rt.CreateContainer(ctx, &runtimeapi.CreateContainerRequest{PodSandboxId: sb.PodSandboxId, SandboxConfig: sbCfg,
		Config: &runtimeapi.ContainerConfig{Metadata: &runtimeapi.ContainerMetadata{Name: "web"},
			Image:   &runtimeapi.ImageSpec{Image: testimage.Name},
			Args:    []string{"-http", ":8081", "-tcp-echo=", "-udp-echo=", "-reply", "cri-container"},
			LogPath: "web.log", Linux: &runtimeapi.LinuxContainerConfig{}}})
	if err != nil {
		t.Fatalf("CreateContainer: %v", err)
	}
	if _, err := cri.rt.StartContainer(ctx, &runtimeapi.StartContainerRequest{ContainerId: ctr.ContainerId}); err != nil {
		t.Fatalf("StartContainer: %v", err)
	}
	out, err := cri.execSync(t, ctx, ctr.ContainerId, "ip", "-o", "-4", "addr", "show", "eth0")
	if err != nil || !strings.Contains(out, " "+ip.String()+"/32 ") {
		t.Fatalf("container eth0: %q %v, want %s/32", out, err, ip)
	}

	// Node -> pod, pod -> remote pod (other node), remote pod -> pod.
	eventually(t, "node netns reaches the container", func() (string, error) {
		return httpGet(cri.ns, ip.String()+":8081")
	}, "cri-container")
	eventually(t, "container reaches the pod on the other node", func() (string, error) {
		return cri.execSync(t, ctx, ctr.ContainerId, "wget", "-qO-", "http://"+remote.String()+":8080/") // not -T: Debian's static busybox crashes with it
	}, "remote-pod")
	eventually(t, "pod on the other node reaches the sandbox", func() (string, error) {
		return httpGet(remoteNS, ip.String()+":8080")
	}, "cri-pod")

	// Stop + remove: CRI runs weir-cni DEL, which releases the address and
	// deletes the host veth.
	if _, err := cri.rt.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: sb.PodSandboxId}); err != nil {
		t.Fatalf("StopPodSandbox: %v", err)
	}
	if _, err := cri.rt.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: sb.PodSandboxId}); err != nil {
		t.Fatalf("RemovePodSandbox: %v", err)
	}
	if a := cri.allocations(t); len(a) != 0 {
		t.Errorf("IPAM after RemovePodSandbox = %+v, want empty", a)
	}
	if l := links(t, cri.ns.Name); contains(l, hostVeth) {
		t.Errorf("host veth %s still in the node netns after RemovePodSandbox", hostVeth)
	}
}

// httpGet fetches / from hostport over a connection dialed inside ns (the
// dial runs on the goroutine's locked thread; http.Transport would dial on
// another one).
func httpGet(ns *testutil.Netns, hostport string) (string, error) {
	var conn net.Conn
	if err := ns.Do(func() (err error) { conn, err = net.DialTimeout("tcp", hostport, 3*time.Second); return err }); err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	req, _ := http.NewRequest("GET", "http://"+hostport+"/", nil)
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

// eventually retries get for up to 20 s until it returns want.
func eventually(t *testing.T, what string, get func() (string, error), want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, err := get()
		if err == nil && strings.TrimSpace(got) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: got %q (%v), want %q", what, got, err, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
