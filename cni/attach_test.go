package cni_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/weirnet/weir/cni"
	"github.com/weirnet/weir/tests/testutil"
)

// pinPassProgram loads a two-instruction SCHED_CLS program ("return
// TC_ACT_OK") with the raw bpf syscall and pins it where the dataplane
// pins prog_tc_pod for instance, on the real bpffs at /sys/fs/bpf.
func pinPassProgram(t *testing.T, instance string) string {
	t.Helper()
	ensureBPFFS(t)
	path := cni.PinnedProgram(cni.DefaultBPFFS, instance)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		os.RemoveAll(filepath.Dir(path))
		os.Remove(filepath.Dir(filepath.Dir(path))) // <bpffs>/weir, when empty
	})
	// Before 5.11 BPF memory is charged to RLIMIT_MEMLOCK (64 KiB on a
	// Debian 11 box): lift it, as the dataplane does, or the load fails
	// EPERM. Where lifting it is not allowed (a sandbox without
	// CAP_SYS_RESOURCE) the kernel is new enough not to need it, or the
	// load below says so.
	if err := unix.Setrlimit(unix.RLIMIT_MEMLOCK, &unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY}); err != nil {
		t.Logf("raise RLIMIT_MEMLOCK: %v (kept the current limit)", err)
	}
	insns := []uint64{0x00000000000000b7, 0x0000000000000095} // r0 = 0; exit
	license := []byte("GPL\x00")
	var name [16]byte
	copy(name[:], "weir_test_pass")
	load := struct {
		progType, insnCnt     uint32
		insns, license        uint64
		logLevel, logSize     uint32
		logBuf                uint64
		kernVersion, progFlag uint32
		progName              [16]byte
	}{progType: unix.BPF_PROG_TYPE_SCHED_CLS, insnCnt: uint32(len(insns)),
		insns: uint64(uintptr(unsafe.Pointer(&insns[0]))), license: uint64(uintptr(unsafe.Pointer(&license[0]))), progName: name}
	fd, _, errno := unix.Syscall(unix.SYS_BPF, unix.BPF_PROG_LOAD, uintptr(unsafe.Pointer(&load)), unsafe.Sizeof(load))
	runtime.KeepAlive(insns)
	runtime.KeepAlive(license)
	if errno != 0 {
		t.Fatalf("BPF_PROG_LOAD: %v", errno)
	}
	defer unix.Close(int(fd))
	p, _ := unix.BytePtrFromString(path)
	pin := struct {
		pathname         uint64
		bpfFD, fileFlags uint32
	}{pathname: uint64(uintptr(unsafe.Pointer(p))), bpfFD: uint32(fd)}
	_, _, errno = unix.Syscall(unix.SYS_BPF, unix.BPF_OBJ_PIN, uintptr(unsafe.Pointer(&pin)), unsafe.Sizeof(pin))
	runtime.KeepAlive(p)
	if errno != 0 {
		t.Fatalf("BPF_OBJ_PIN %s: %v", path, errno)
	}
	return path
}

// ensureBPFFS mounts bpffs at /sys/fs/bpf when it is missing, as weir does.
func ensureBPFFS(t *testing.T) {
	t.Helper()
	var st unix.Statfs_t
	if err := unix.Statfs(cni.DefaultBPFFS, &st); err == nil && st.Type == unix.BPF_FS_MAGIC {
		return
	}
	if err := unix.Mount("bpf", cni.DefaultBPFFS, "bpf", 0, ""); err != nil {
		t.Fatalf("mount bpffs at %s: %v", cni.DefaultBPFFS, err)
	}
}

// TestAttachPinnedProgram: with a program pinned for the dataplane
// instance, ADD attaches it to the host veth's clsact ingress
// (direct-action), traffic still flows through it, CHECK verifies it, and
// without a pin (or with attachPrograms false) nothing is attached.
func TestAttachPinnedProgram(t *testing.T) {
	n := newNode(t)
	instance := testutil.UniqueName("weirt")
	pinPassProgram(t, instance)
	pod := testutil.NewNetns(t, "p")
	conf := n.conf("1.1.0", map[string]any{"dataplaneInstance": instance})
	c := call{cmd: "ADD", id: "attach", netns: "/run/netns/" + pod.Name, ifname: "eth0", stdin: conf}
	add := n.run(c).ok(t, "ADD with a pinned program")
	hostName := cni.HostVethName("attach", "eth0")
	filters := n.host.Run(t, "tc", "filter", "show", "dev", hostName, "ingress")
	if !strings.Contains(filters, cni.FilterName) || !strings.Contains(filters, "direct-action") {
		t.Fatalf("no direct-action %s filter on %s ingress:\n%s", cni.FilterName, hostName, filters)
	}
	echo(t, n.host.Name, pod.Name, "10.244.1.1:7002")

	check := call{cmd: "CHECK", id: "attach", netns: c.netns, ifname: "eth0", stdin: withPrev(t, conf, add.stdout)}
	n.run(check).ok(t, "CHECK with the program attached")
	n.host.Run(t, "tc", "filter", "del", "dev", hostName, "ingress")
	n.run(check).code(t, "CHECK after the filter was removed", 999, cni.FilterName)

	for name, over := range map[string]map[string]any{
		"no pin":               {"dataplaneInstance": testutil.UniqueName("weirt")},
		"attachPrograms false": {"dataplaneInstance": instance, "attachPrograms": false},
	} {
		id := strings.ReplaceAll(name, " ", "-")
		other := testutil.NewNetns(t, "p")
		n.run(call{cmd: "ADD", id: id, netns: "/run/netns/" + other.Name, ifname: "eth0", stdin: n.conf("1.1.0", over)}).ok(t, "ADD "+name)
		out, _ := exec.Command("ip", "netns", "exec", n.host.Name, "tc", "filter", "show", "dev", cni.HostVethName(id, "eth0"), "ingress").CombinedOutput()
		if strings.Contains(string(out), cni.FilterName) {
			t.Errorf("%s: filter attached anyway:\n%s", name, out)
		}
	}
}

// TestPodToPod: two pods on one node reach each other through the host.
func TestPodToPod(t *testing.T) {
	n := newNode(t)
	conf := n.conf("1.1.0", nil)
	a, b := testutil.NewNetns(t, "p"), testutil.NewNetns(t, "p")
	n.run(call{cmd: "ADD", id: "pod-a", netns: "/run/netns/" + a.Name, ifname: "eth0", stdin: conf}).ok(t, "ADD a")
	resB := n.run(call{cmd: "ADD", id: "pod-b", netns: "/run/netns/" + b.Name, ifname: "eth0", stdin: conf}).ok(t, "ADD b").result(t)
	echo(t, b.Name, a.Name, resB.IPs[0].Address.IP.String()+":7003")
}
