package runtime

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/containerd/containers"
	"github.com/containerd/containerd/oci"
	"github.com/google/uuid"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/weirnet/weir/tests/testutil"
)

// loopPod is a pod of the test image whose containers (named) loop
// forever, each with its securityContext.
func loopPod(name string, ctrs map[string]*corev1.SecurityContext) corev1.Pod {
	pod := testPod(name, types.UID(uuid.NewString()))
	grace := int64(1)
	pod.Spec.TerminationGracePeriodSeconds = &grace
	image := pod.Spec.Containers[0].Image
	pod.Spec.Containers = nil
	for n, sc := range ctrs {
		pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: n, Image: image, SecurityContext: sc,
			Command: []string{"/bin/sh", "-c", "while true; do sleep 1; done"}})
	}
	return pod
}

func ptr[T any](v T) *T { return &v }

// statusOf is the status of container ctr of pod (zero when none yet).
func (n *testNode) statusOf(pod, ctr string) corev1.ContainerStatus {
	for _, cs := range n.rep.get("default/" + pod).ContainerStatuses {
		if cs.Name == ctr {
			return cs
		}
	}
	return corev1.ContainerStatus{}
}

// exec runs cmd in a container of a pod; its exit code and output.
func (n *testNode) exec(t *testing.T, pod, ctr string, cmd ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out testutil.SyncBuffer
	code, err := n.rt.Exec(ctx, "default", pod, ctr, cmd, ExecOptions{Stdout: &out, Stderr: &out})
	if err != nil {
		t.Fatalf("exec %v in %s/%s: %v", cmd, pod, ctr, err)
	}
	return code, out.String()
}

// status is the value of a /proc/self/status field as cat shows it in
// the container.
func (n *testNode) procStatus(t *testing.T, pod, ctr, field string) string {
	t.Helper()
	code, out := n.exec(t, pod, ctr, "grep", "^"+field+":", "/proc/self/status")
	if code != 0 {
		t.Fatalf("%s/%s: no %s in /proc/self/status: %q", pod, ctr, field, out)
	}
	return strings.TrimSpace(strings.TrimPrefix(out, field+":"))
}

// capEff is the container's effective capability set.
func (n *testNode) capEff(t *testing.T, pod, ctr string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(n.procStatus(t, pod, ctr, "CapEff"), 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Capability bits (linux/capability.h).
const (
	capChown     = 0
	capNetBind   = 10
	capNetAdmin  = 12
	capNetRaw    = 13
	capSysAdmin  = 21
	capAuditWrit = 29
)

// TestSecurityContext runs containers with securityContexts through the
// real containerd and checks them from inside: uid and groups (runAsUser,
// runAsGroup, fsGroup, supplementalGroups), a read-only root, no_new_privs,
// the RuntimeDefault seccomp filter, dropped and added capabilities
// (NET_RAW: ping fails; NET_ADMIN: a link's MTU changes; ALL),
// privileged, safe sysctls, fsGroup ownership of an emptyDir, and
// runAsNonRoot refusing the root test image as the kubelet does. A
// container without a securityContext is the control.
func TestSecurityContext(t *testing.T) {
	testutil.RequirePrivileged(t)
	n := newTestNode(t)
	dataDir := n.rt.cfg.DataDir
	t.Cleanup(func() { unmountUnder(dataDir) })

	strict := loopPod("strict", map[string]*corev1.SecurityContext{
		"app": {RunAsNonRoot: ptr(true), ReadOnlyRootFilesystem: ptr(true), AllowPrivilegeEscalation: ptr(false),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
		"plain": nil,
	})
	strict.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsUser: ptr[int64](1000), RunAsGroup: ptr[int64](3000),
		FSGroup: ptr[int64](2000), SupplementalGroups: []int64{4000},
		Sysctls: []corev1.Sysctl{{Name: "net.ipv4.ip_local_port_range", Value: "20000 30000"}, {Name: "kernel/shm_rmid_forced", Value: "1"}}}
	strict.Spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	for i := range strict.Spec.Containers {
		strict.Spec.Containers[i].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
	}
	caps := loopPod("caps", map[string]*corev1.SecurityContext{
		"default": nil,
		"netadmin": {Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN"}, Drop: []corev1.Capability{"NET_RAW"}},
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}},
		"dropall": {Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"chown"}, Drop: []corev1.Capability{"ALL"}}},
		"priv":    {Privileged: ptr(true), SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
	})
	nonRoot := loopPod("nonroot", map[string]*corev1.SecurityContext{"app": {RunAsNonRoot: ptr(true)}})
	rootUID := loopPod("rootuid", map[string]*corev1.SecurityContext{"app": {RunAsNonRoot: ptr(true), RunAsUser: ptr[int64](0)}})
	n.rt.Sync([]corev1.Pod{strict, caps, nonRoot, rootUID})

	running := func(pod string, ctrs ...string) func() bool {
		return func() bool {
			for _, c := range ctrs {
				if n.statusOf(pod, c).State.Running == nil {
					return false
				}
			}
			return true
		}
	}
	waitFor(t, "pod strict running", 90*time.Second, running("strict", "app", "plain"))
	waitFor(t, "pod caps running", 60*time.Second, running("caps", "default", "netadmin", "dropall", "priv"))

	// Users and groups: the pod's runAsUser/runAsGroup, fsGroup and
	// supplementalGroups (the kernel sorts the groups).
	for _, c := range []string{"app", "plain"} {
		if code, out := n.exec(t, "strict", c, "id"); code != 0 || out != "uid=1000 gid=3000 groups=2000,3000,4000\n" {
			t.Errorf("strict/%s: id = %q (%d), want uid=1000 gid=3000 groups=2000,3000,4000", c, out, code)
		}
	}
	if code, out := n.exec(t, "caps", "default", "id"); code != 0 || !strings.HasPrefix(out, "uid=0(root) gid=0(root)") {
		t.Errorf("caps/default: id = %q: want root, the image's user", out)
	}

	// readOnlyRootFilesystem: / is not writable, the emptyDir is.
	if code, out := n.exec(t, "strict", "app", "touch", "/rootfile"); code == 0 || !strings.Contains(out, "Read-only file system") {
		t.Errorf("touch / in a readOnlyRootFilesystem container: %d %q", code, out)
	}
	if code, out := n.exec(t, "strict", "plain", "touch", "/tmp/rootfile"); code != 0 {
		t.Errorf("touch /tmp in a writable root: %d %q", code, out)
	}

	// fsGroup: the emptyDir is the group's and setgid; a file a container
	// makes there is owned by the group (its own primary group is 3000).
	if code, out := n.exec(t, "strict", "app", "sh", "-c", "echo x > /data/made-by-app"); code != 0 {
		t.Fatalf("write to the emptyDir: %d %q", code, out)
	}
	dir := emptyDirPath(n.rt.newSandbox(&strict), "data")
	for _, p := range []string{dir, filepath.Join(dir, "made-by-app")} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if st.Gid != 2000 {
			t.Errorf("%s: gid %d, want the fsGroup 2000", p, st.Gid)
		}
		if p == dir && fi.Mode()&os.ModeSetgid == 0 {
			t.Errorf("%s: mode %v, want setgid", p, fi.Mode())
		}
		if p != dir && st.Uid != 1000 {
			t.Errorf("%s: uid %d, want 1000", p, st.Uid)
		}
	}

	// no_new_privs only with allowPrivilegeEscalation false; the seccomp
	// filter (mode 2) only with RuntimeDefault.
	for _, tc := range []struct{ pod, ctr, nnp, seccomp string }{
		{"strict", "app", "1", "2"}, {"strict", "plain", "0", "0"}, {"caps", "default", "0", "0"},
		{"caps", "netadmin", "0", "0"}, {"caps", "priv", "0", "0"},
	} {
		if got := n.procStatus(t, tc.pod, tc.ctr, "NoNewPrivs"); got != tc.nnp {
			t.Errorf("%s/%s: NoNewPrivs %s, want %s", tc.pod, tc.ctr, got, tc.nnp)
		}
		if got := n.procStatus(t, tc.pod, tc.ctr, "Seccomp"); got != tc.seccomp {
			t.Errorf("%s/%s: Seccomp %s, want %s", tc.pod, tc.ctr, got, tc.seccomp)
		}
	}
	// the runtime default capability set (containerd's)
	def := n.capEff(t, "caps", "default")
	if def&(1<<capNetRaw) == 0 || def&(1<<capChown) == 0 || def&(1<<capAuditWrit) == 0 || def&(1<<capNetAdmin) != 0 || def&(1<<capSysAdmin) != 0 {
		t.Errorf("default capabilities %#x: want containerd's default set (CHOWN, NET_RAW, AUDIT_WRITE; no NET_ADMIN, SYS_ADMIN)", def)
	}

	// Capabilities: NET_RAW dropped (ping fails), NET_ADMIN added (the MTU
	// of the pod's loopback changes); the control pings.
	if code, out := n.exec(t, "caps", "default", "ping", "-c", "1", "-W", "2", "127.0.0.1"); code != 0 {
		t.Errorf("ping with the default capabilities: %d %q", code, out)
	}
	if code, out := n.exec(t, "caps", "netadmin", "ping", "-c", "1", "-W", "2", "127.0.0.1"); code == 0 {
		t.Errorf("ping without NET_RAW worked: %q", out)
	}
	if code, out := n.exec(t, "caps", "default", "ip", "link", "set", "lo", "mtu", "1500"); code == 0 {
		t.Errorf("changing a link without NET_ADMIN worked: %q", out)
	}
	if code, out := n.exec(t, "caps", "netadmin", "ip", "link", "set", "lo", "mtu", "1500"); code != 0 {
		t.Errorf("changing a link with NET_ADMIN: %d %q", code, out)
	}
	if c := n.capEff(t, "caps", "netadmin"); c&(1<<capNetRaw) != 0 || c&(1<<capNetAdmin) == 0 {
		t.Errorf("netadmin CapEff %#x: want NET_ADMIN without NET_RAW", c)
	}
	if c := n.capEff(t, "caps", "dropall"); c != 1<<capChown {
		t.Errorf("drop ALL, add chown: CapEff %#x, want %#x", c, 1<<capChown)
	}
	if c := n.capEff(t, "caps", "priv"); c&(1<<capSysAdmin) == 0 || c&(1<<capNetAdmin) == 0 {
		t.Errorf("privileged CapEff %#x: want every capability", c)
	}
	if code, out := n.exec(t, "caps", "priv", "mount", "-t", "tmpfs", "none", "/tmp"); code != 0 {
		t.Errorf("mount in a privileged container: %d %q", code, out)
	}
	if code, out := n.exec(t, "caps", "default", "mount", "-t", "tmpfs", "none", "/tmp"); code == 0 {
		t.Errorf("mount in an unprivileged container worked: %q", out)
	}

	// Sysctls: set in the pod's namespaces.
	if code, out := n.exec(t, "strict", "plain", "cat", "/proc/sys/net/ipv4/ip_local_port_range"); code != 0 || strings.Join(strings.Fields(out), " ") != "20000 30000" {
		t.Errorf("ip_local_port_range = %q (%d), want 20000 30000", out, code)
	}
	if code, out := n.exec(t, "strict", "plain", "cat", "/proc/sys/kernel/shm_rmid_forced"); code != 0 || out != "1\n" {
		t.Errorf("shm_rmid_forced = %q (%d), want 1", out, code)
	}
	if code, out := n.exec(t, "caps", "default", "cat", "/proc/sys/net/ipv4/ip_local_port_range"); code != 0 || strings.Join(strings.Fields(out), " ") == "20000 30000" {
		t.Errorf("another pod's ip_local_port_range = %q: the sysctl leaked", out)
	}

	// runAsNonRoot: the root image, and runAsUser 0, are refused with the
	// kubelet's reason and message.
	for pod, msg := range map[string]*regexp.Regexp{
		"nonroot": regexp.MustCompile(`^container has runAsNonRoot and image will run as root \(pod: "nonroot_default\([0-9a-f-]+\)", container: app\)$`),
		"rootuid": regexp.MustCompile(`^container's runAsUser breaks non-root policy \(pod: "rootuid_default\([0-9a-f-]+\)", container: app\)$`),
	} {
		waitFor(t, pod+" refused", 30*time.Second, func() bool {
			w := n.statusOf(pod, "app").State.Waiting
			return w != nil && w.Reason == reasonCreateContainerConfigError
		})
		if w := n.statusOf(pod, "app").State.Waiting; !msg.MatchString(w.Message) {
			t.Errorf("%s: waiting message %q, want %v", pod, w.Message, msg)
		}
	}
}

// TestSetVolumeOwnership: fsGroup gives a tree to the group with group
// permissions (read-only: read), setgid directories; a symlink's target
// outside the tree is not touched.
func TestSetVolumeOwnership(t *testing.T) {
	testutil.RequirePrivileged(t) // chown
	outside := filepath.Join(t.TempDir(), "outside")
	if err := os.WriteFile(outside, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"a", "sub/b"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o400); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	for _, ro := range []bool{true, false} {
		if err := SetVolumeOwnership(dir, 2345, ro); err != nil {
			t.Fatal(err)
		}
		file, d := os.FileMode(0o660), os.FileMode(0o770)|os.ModeSetgid|os.ModeDir
		if ro {
			file, d = 0o440, 0o750|os.ModeSetgid|os.ModeDir
		}
		for _, tc := range []struct {
			p    string
			mode os.FileMode
		}{{dir, d | 0o700}, {filepath.Join(dir, "sub"), d}, {filepath.Join(dir, "a"), file}, {filepath.Join(dir, "sub/b"), file}} {
			fi, err := os.Lstat(tc.p)
			if err != nil {
				t.Fatal(err)
			}
			if gid := fi.Sys().(*syscall.Stat_t).Gid; gid != 2345 || fi.Mode()&tc.mode != tc.mode {
				t.Errorf("ro=%v %s: gid %d mode %v, want 2345 and at least %v", ro, tc.p, gid, fi.Mode(), tc.mode)
			}
		}
		if fi, _ := os.Lstat(filepath.Join(dir, "link")); fi.Sys().(*syscall.Stat_t).Gid != 2345 {
			t.Errorf("the symlink's group was not changed")
		}
		if fi, _ := os.Stat(outside); fi.Mode().Perm() != 0o600 || fi.Sys().(*syscall.Stat_t).Gid == 2345 {
			t.Errorf("the symlink's target outside the volume was changed: %v", fi.Mode())
		}
	}
}

// TestVerifyRunAsNonRoot: the image's USER decides when runAsUser is
// unset, as in the kubelet.
func TestVerifyRunAsNonRoot(t *testing.T) {
	pod := testPod("p", "uid-1")
	c := &pod.Spec.Containers[0]
	for _, tc := range []struct {
		sc   *corev1.SecurityContext
		user string
		want string // "" = allowed
	}{
		{&corev1.SecurityContext{}, "", ""},
		{&corev1.SecurityContext{RunAsNonRoot: ptr(false)}, "", ""},
		{&corev1.SecurityContext{RunAsNonRoot: ptr(true)}, "", `container has runAsNonRoot and image will run as root (pod: "p_default(uid-1)", container: web)`},
		{&corev1.SecurityContext{RunAsNonRoot: ptr(true)}, "0:0", `container has runAsNonRoot and image will run as root (pod: "p_default(uid-1)", container: web)`},
		{&corev1.SecurityContext{RunAsNonRoot: ptr(true)}, "1000:1000", ""},
		{&corev1.SecurityContext{RunAsNonRoot: ptr(true)}, "nobody", `container has runAsNonRoot and image has non-numeric user (nobody), cannot verify user is non-root (pod: "p_default(uid-1)", container: web)`},
		{&corev1.SecurityContext{RunAsNonRoot: ptr(true), RunAsUser: ptr[int64](5)}, "", ""},
		{&corev1.SecurityContext{RunAsNonRoot: ptr(true), RunAsUser: ptr[int64](0)}, "1000", `container's runAsUser breaks non-root policy (pod: "p_default(uid-1)", container: web)`},
	} {
		err := verifyRunAsNonRoot(&pod, c, tc.sc, tc.user)
		if got := ""; err != nil {
			got = err.Error()
			if _, ok := err.(*configError); !ok {
				t.Errorf("%+v %q: %T, want a configError", tc.sc, tc.user, err)
			}
			if got != tc.want {
				t.Errorf("%+v %q: %q, want %q", tc.sc, tc.user, got, tc.want)
			}
		} else if tc.want != "" {
			t.Errorf("%+v %q: allowed, want %q", tc.sc, tc.user, tc.want)
		}
	}
	// the pod's runAsNonRoot and runAsUser are the container's defaults
	pod.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsNonRoot: ptr(true), RunAsUser: ptr[int64](0)}
	if sc := effectiveSecurity(&pod, c); verifyRunAsNonRoot(&pod, c, sc, "1000") == nil {
		t.Errorf("the pod's runAsUser 0 with runAsNonRoot was allowed")
	}
	c.SecurityContext = &corev1.SecurityContext{RunAsUser: ptr[int64](7)}
	if sc := effectiveSecurity(&pod, c); verifyRunAsNonRoot(&pod, c, sc, "") != nil || *sc.RunAsUser != 7 {
		t.Errorf("the container's runAsUser did not override the pod's")
	}
}

func TestSysctlName(t *testing.T) {
	for in, want := range map[string]string{"kernel.shm_rmid_forced": "kernel.shm_rmid_forced", "kernel/shm_rmid_forced": "kernel.shm_rmid_forced",
		"net/ipv4/conf/eth0.1/forwarding": "net.ipv4.conf.eth0/1.forwarding", "net.ipv4.conf.eth0/1.forwarding": "net.ipv4.conf.eth0/1.forwarding"} {
		if got := sysctlName(in); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}

// TestUserOpts: uid, gid and groups from runAsUser/runAsGroup, the
// image's /etc/passwd and /etc/group (Merge; not under Strict), fsGroup
// and supplementalGroups.
func TestUserOpts(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{"passwd": "root:x:0:0::/:/bin/sh\napp:x:1000:1000::/:/bin/sh\n",
		"group": "root:x:0:\napp:x:1000:\nwheel:x:10:app\nextra:x:20:other,app\n"} {
		if err := os.WriteFile(filepath.Join(root, "etc", name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	strict := corev1.SupplementalGroupsPolicyStrict
	for _, tc := range []struct {
		name  string
		sc    corev1.SecurityContext
		psc   corev1.PodSecurityContext
		image string
		uid   uint32
		gid   uint32
		gids  []uint32
	}{
		{"runAsUser", corev1.SecurityContext{RunAsUser: ptr[int64](1000)}, corev1.PodSecurityContext{}, "", 1000, 1000, []uint32{1000, 10, 20}},
		{"unknown uid", corev1.SecurityContext{RunAsUser: ptr[int64](4242)}, corev1.PodSecurityContext{}, "", 4242, 0, []uint32{0}},
		{"runAsGroup", corev1.SecurityContext{RunAsUser: ptr[int64](1000), RunAsGroup: ptr[int64](50)}, corev1.PodSecurityContext{}, "", 1000, 50, []uint32{50, 10, 20}},
		{"runAsGroup, image user", corev1.SecurityContext{RunAsGroup: ptr[int64](50)}, corev1.PodSecurityContext{}, "1000:1000", 1000, 50, []uint32{50, 10, 20}},
		{"strict", corev1.SecurityContext{RunAsUser: ptr[int64](1000)}, corev1.PodSecurityContext{SupplementalGroupsPolicy: &strict}, "", 1000, 1000, []uint32{1000}},
		{"fsGroup and supplementalGroups", corev1.SecurityContext{RunAsUser: ptr[int64](1000)},
			corev1.PodSecurityContext{FSGroup: ptr[int64](2000), SupplementalGroups: []int64{3000, 10}}, "", 1000, 1000, []uint32{1000, 10, 20, 2000, 3000}},
	} {
		s := &oci.Spec{Root: &specs.Root{Path: root}, Process: &specs.Process{}, Linux: &specs.Linux{}}
		for _, o := range userOpts(&tc.sc, &tc.psc, tc.image) {
			if err := o(context.Background(), nil, &containers.Container{}, s); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
		}
		if u := s.Process.User; u.UID != tc.uid || u.GID != tc.gid || !slices.Equal(u.AdditionalGids, tc.gids) {
			t.Errorf("%s: uid %d gid %d groups %v, want %d %d %v", tc.name, u.UID, u.GID, u.AdditionalGids, tc.uid, tc.gid, tc.gids)
		}
	}
}
