package runtime

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/weirnet/weir/tests/testutil"
)

// TestSubPath: volumeMounts with subPath and subPathExpr mount only the
// sub-directory or file of an emptyDir (a symlink inside the volume is
// followed; a missing directory is made); a subPath that leads outside
// the volume through a symlink, or a subPathExpr of a missing variable,
// leaves its container waiting with CreateContainerConfigError.
func TestSubPath(t *testing.T) {
	testutil.RequirePrivileged(t)
	n := newTestNode(t)
	dataDir := n.rt.cfg.DataDir
	t.Cleanup(func() { unmountUnder(dataDir) })

	pod := testPod("subpath", types.UID(uuid.NewString()))
	grace := int64(1)
	pod.Spec.TerminationGracePeriodSeconds = &grace
	image := pod.Spec.Containers[0].Image
	loop := []string{"/bin/sh", "-c", "while true; do sleep 1; done"}
	pod.Spec.Volumes = []corev1.Volume{{Name: "vol", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	pod.Spec.InitContainers = []corev1.Container{{Name: "prep", Image: image, Command: []string{"/bin/sh", "-c",
		"mkdir -p /vol/a/b && echo one > /vol/a/b/file && echo top > /vol/top && ln -s /etc /vol/escape && ln -s a/b /vol/inner"},
		VolumeMounts: []corev1.VolumeMount{{Name: "vol", MountPath: "/vol"}}}}
	pod.Spec.Containers = []corev1.Container{
		{Name: "sub", Image: image, Command: loop, Env: []corev1.EnvVar{{Name: "DIR", Value: "a"}},
			VolumeMounts: []corev1.VolumeMount{
				{Name: "vol", MountPath: "/sub", SubPath: "a"},
				{Name: "vol", MountPath: "/sub/b/top.txt", SubPath: "top", ReadOnly: true},
				{Name: "vol", MountPath: "/inner", SubPath: "inner"},
				{Name: "vol", MountPath: "/expr", SubPathExpr: "$(DIR)/b"},
				{Name: "vol", MountPath: "/new", SubPath: "made/here"},
			}},
		{Name: "escape", Image: image, Command: loop, VolumeMounts: []corev1.VolumeMount{{Name: "vol", MountPath: "/host-etc", SubPath: "escape"}}},
		{Name: "noenv", Image: image, Command: loop, VolumeMounts: []corev1.VolumeMount{{Name: "vol", MountPath: "/x", SubPathExpr: "$(NOPE)/x"}}},
	}
	n.rt.Sync([]corev1.Pod{pod})
	waitFor(t, "container sub running", 90*time.Second, func() bool { return n.statusOf("subpath", "sub").State.Running != nil })

	for _, tc := range []struct{ cmd, want string }{
		{"ls /sub", "b\n"}, // only the sub-directory
		{"cat /sub/b/file", "one\n"},
		{"cat /sub/b/top.txt", "top\n"}, // a file, mounted below the directory mounted before it
		{"cat /inner/file", "one\n"},    // through a symlink inside the volume
		{"cat /expr/file", "one\n"},     // $(DIR)/b
		{"ls -a /new", ".\n..\n"},       // made
	} {
		if code, out := n.exec(t, "subpath", "sub", "sh", "-c", tc.cmd); code != 0 || out != tc.want {
			t.Errorf("%s: %q (%d), want %q", tc.cmd, out, code, tc.want)
		}
	}
	if code, out := n.exec(t, "subpath", "sub", "sh", "-c", "echo two > /sub/b/new && echo x > /sub/b/top.txt"); code == 0 || !strings.Contains(out, "Read-only") {
		t.Errorf("writes: %q (%d), want the sub-directory writable and the readOnly file not", out, code)
	}
	dir := emptyDirPath(n.rt.newSandbox(&pod), "vol")
	if b, err := os.ReadFile(filepath.Join(dir, "a/b/new")); err != nil || string(b) != "two\n" {
		t.Errorf("written through the subPath: %q %v", b, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "made/here")); err != nil || !fi.IsDir() {
		t.Errorf("missing subPath not made as a directory: %v %v", fi, err)
	}

	for ctr, want := range map[string]string{"escape": "not within volume path", "noenv": "missing value for NOPE"} {
		waitFor(t, ctr+" refused", 30*time.Second, func() bool {
			w := n.statusOf("subpath", ctr).State.Waiting
			return w != nil && w.Reason == reasonCreateContainerConfigError
		})
		if w := n.statusOf("subpath", ctr).State.Waiting; !strings.Contains(w.Message, want) {
			t.Errorf("%s: %q, want %q", ctr, w.Message, want)
		}
	}
}
