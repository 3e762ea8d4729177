package runtime

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/types"

	"github.com/weirnet/weir/tests/testutil"
)

// emptyDirPod: a writer and a reader container sharing a disk emptyDir
// (the reader's mount read-only) and a Memory emptyDir of 8Mi.
func emptyDirPod(name string) corev1.Pod {
	pod := testPod(name, types.UID(uuid.NewString()))
	limit := resource.MustParse("8Mi")
	pod.Spec.Volumes = []corev1.Volume{
		{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{Name: "mem", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory, SizeLimit: &limit}}},
	}
	pod.Spec.Containers = []corev1.Container{
		{Name: "writer", Image: pod.Spec.Containers[0].Image, Command: []string{"/bin/sh", "-c", `echo hello > /scratch/msg; while true; do sleep 1; done`},
			VolumeMounts: []corev1.VolumeMount{{Name: "scratch", MountPath: "/scratch"}, {Name: "mem", MountPath: "/mem"}}},
		{Name: "reader", Image: pod.Spec.Containers[0].Image, Command: []string{"/bin/sh", "-c", `while true; do sleep 1; done`},
			VolumeMounts: []corev1.VolumeMount{{Name: "scratch", MountPath: "/scratch", ReadOnly: true}, {Name: "mem", MountPath: "/mem"}}},
	}
	return pod
}

// TestEmptyDir: two containers share an emptyDir (one writes, the other
// reads; a readOnly mount cannot write); a Memory emptyDir is a tmpfs of
// its sizeLimit in the container and on the host; data survives a
// container restart and an agent restart (adoption mounts nothing twice);
// removing the pod, by its worker or as an orphan found by a new agent,
// leaves no mount and no directory.
func TestEmptyDir(t *testing.T) {
	testutil.RequirePrivileged(t)
	n := newTestNode(t)
	dataDir := n.rt.cfg.DataDir
	t.Cleanup(func() { unmountUnder(dataDir) }) // after a failure: let TempDir go
	pod, orphan := emptyDirPod("shared"), emptyDirPod("orphan")
	n.rt.Sync([]corev1.Pod{pod, orphan})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	exec := func(rt *Runtime, p, ctr string, cmd ...string) (int, string) {
		var out, errb testutil.SyncBuffer
		code, err := rt.Exec(ctx, "default", p, ctr, cmd, ExecOptions{Stdout: &out, Stderr: &errb})
		if err != nil {
			return -1, err.Error()
		}
		return code, out.String() + errb.String()
	}
	// running: both containers run, the writer restarted that often
	// (-1: any; an adopting agent does not know earlier restarts).
	running := func(rep *reports, key string, restarts int32) func() bool {
		return func() bool {
			st := rep.get(key)
			if st.Phase != corev1.PodRunning || len(st.ContainerStatuses) != 2 {
				return false
			}
			for _, cs := range st.ContainerStatuses {
				if cs.State.Running == nil || restarts >= 0 && cs.Name == "writer" && cs.RestartCount != restarts {
					return false
				}
			}
			return true
		}
	}
	waitFor(t, "pods running", 90*time.Second, func() bool {
		return running(n.rep, "default/shared", 0)() && running(n.rep, "default/orphan", 0)()
	})

	// Shared: the reader sees what the writer wrote; its readOnly mount
	// cannot write, the writer's can.
	waitFor(t, "the writer's file in the reader", 20*time.Second, func() bool {
		code, out := exec(n.rt, "shared", "reader", "cat", "/scratch/msg")
		return code == 0 && out == "hello\n"
	})
	if code, out := exec(n.rt, "shared", "reader", "touch", "/scratch/nope"); code == 0 {
		t.Errorf("a readOnly emptyDir mount was writable: %q", out)
	}
	mountLine := func(ctr, dst string) string {
		code, out := exec(n.rt, "shared", ctr, "grep", " "+dst+" ", "/proc/mounts")
		if code != 0 {
			t.Fatalf("%s: no %s in /proc/mounts: %q", ctr, dst, out)
		}
		return out
	}
	if l := mountLine("reader", "/scratch"); !regexp.MustCompile(` /scratch \S+ ro[, ]`).MatchString(l) {
		t.Errorf("reader's /scratch: %q, want read-only", l)
	}
	if l := mountLine("writer", "/scratch"); !regexp.MustCompile(` /scratch \S+ rw[, ]`).MatchString(l) {
		t.Errorf("writer's /scratch: %q, want read-write", l)
	}
	// Memory: a tmpfs of sizeLimit (8Mi = 8192k), in both containers.
	for _, ctr := range []string{"writer", "reader"} {
		if l := mountLine(ctr, "/mem"); !regexp.MustCompile(`^tmpfs /mem tmpfs rw,.*size=8192k`).MatchString(l) {
			t.Errorf("%s's /mem: %q, want a read-write tmpfs of size 8192k", ctr, l)
		}
	}
	sb := n.rt.newSandbox(&pod)
	if fi, err := os.Stat(emptyDirPath(sb, "scratch")); err != nil || fi.Mode().Perm() != 0o777 {
		t.Errorf("disk emptyDir on the host: %v %v, want mode 0777", fi, err)
	}
	if m, _ := mountsUnder(sb.dir); len(m) != 1 || m[0] != realPath(emptyDirPath(sb, "mem")) {
		t.Errorf("host mounts under the pod dir: %q, want the Memory emptyDir's tmpfs only", m)
	}

	// A container restart keeps both volumes' data.
	if code, out := exec(n.rt, "shared", "writer", "sh", "-c", "echo kept > /mem/keep && echo kept > /scratch/keep"); code != 0 {
		t.Fatalf("write: %d %q", code, out)
	}
	n.killContainer(t, pod.UID, "writer")
	waitFor(t, "writer restarted", 60*time.Second, running(n.rep, "default/shared", 1))
	for _, f := range []string{"/mem/keep", "/scratch/keep"} {
		if code, out := exec(n.rt, "shared", "writer", "cat", f); code != 0 || out != "kept\n" {
			t.Errorf("after a container restart, %s = %d %q, want kept", f, code, out)
		}
	}

	// Agent restart: the new runtime adopts "shared" (its tmpfs and data
	// kept, nothing mounted twice) and removes "orphan", no longer wanted.
	n.rt.Close()
	cfg := n.rt.cfg
	rep := &reports{last: map[string]corev1.PodStatus{}, removed: map[string]types.UID{}, waiting: map[string][]string{}}
	cfg.Report = rep.report
	rt2 := adoptingRuntime(t, cfg)
	rt2.Sync([]corev1.Pod{pod})
	waitFor(t, "adopted pod running", 60*time.Second, running(rep, "default/shared", -1))
	if code, out := exec(rt2, "shared", "writer", "cat", "/mem/keep"); code != 0 || out != "kept\n" {
		t.Errorf("after adoption, /mem/keep = %d %q, want kept", code, out)
	}
	if m, _ := mountsUnder(sb.dir); len(m) != 1 {
		t.Errorf("host mounts under the pod dir after adoption: %q, want one tmpfs", m)
	}
	gone := func(dir string) func() bool {
		return func() bool {
			m, err := mountsUnder(dir)
			_, serr := os.Stat(dir)
			return err == nil && len(m) == 0 && os.IsNotExist(serr)
		}
	}
	orphanDir := n.rt.newSandbox(&orphan).dir
	waitFor(t, "orphan pod's tmpfs and directory removed", 60*time.Second, gone(orphanDir))

	// Deleted: the worker unmounts and removes everything.
	rt2.Sync(nil)
	waitFor(t, "pod removed", 30*time.Second, func() bool { return rep.removedUID("default/shared") == pod.UID })
	if !gone(sb.dir)() {
		m, _ := mountsUnder(sb.dir)
		t.Errorf("after removal: mounts %q under %s, or the directory is left", m, sb.dir)
	}
	if m, _ := mountsUnder(filepath.Join(dataDir, "pods")); len(m) != 0 {
		t.Errorf("mounts left under the pods dir: %q", m)
	}
}

// TestMemoryEmptyDirSize: sizeLimit, lowered to the pod's memory limit
// (the sum of its containers' limits when each has one); 0 (the kernel's
// default) when neither applies.
func TestMemoryEmptyDirSize(t *testing.T) {
	mi := func(n int64) *resource.Quantity { return resource.NewQuantity(n<<20, resource.BinarySI) }
	ctr := func(limit *resource.Quantity) corev1.Container {
		c := corev1.Container{Name: "c"}
		if limit != nil {
			c.Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: *limit}
		}
		return c
	}
	for _, c := range []struct {
		name  string
		size  *resource.Quantity
		ctrs  []corev1.Container
		wantM int64
	}{
		{"sizeLimit only", mi(64), []corev1.Container{ctr(nil)}, 64},
		{"pod limit only", nil, []corev1.Container{ctr(mi(100)), ctr(mi(28))}, 128},
		{"sizeLimit below pod limit", mi(64), []corev1.Container{ctr(mi(100)), ctr(mi(28))}, 64},
		{"pod limit below sizeLimit", mi(512), []corev1.Container{ctr(mi(100)), ctr(mi(28))}, 128},
		{"one container unlimited", nil, []corev1.Container{ctr(mi(100)), ctr(nil)}, 0},
		{"one container unlimited, sizeLimit", mi(32), []corev1.Container{ctr(nil), ctr(mi(100))}, 32},
	} {
		pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: c.ctrs}}
		if got := memoryEmptyDirSize(pod, &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory, SizeLimit: c.size}); got != c.wantM<<20 {
			t.Errorf("%s: size %d, want %d", c.name, got, c.wantM<<20)
		}
	}
}
