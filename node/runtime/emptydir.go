package runtime

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
)

// emptyDir volumes live in the pod's directory, as the kubelet's do
// (pods/<uid>/volumes/kubernetes.io~empty-dir/<name>): created 0777, they
// share the pod's lifetime, so their data survives container restarts
// and goes with the pod. medium Memory is a tmpfs mounted on that
// directory by the agent (in its own mount namespace, containerd's) and
// unmounted before the pod's directory is removed.
const emptyDirSubdir = "volumes/kubernetes.io~empty-dir"

func emptyDirPath(s *sandbox, name string) string {
	return filepath.Join(s.dir, emptyDirSubdir, name)
}

// setUpEmptyDirs makes the pod's emptyDir volumes (idempotent: an adopted
// pod keeps its data and its tmpfs mounts) and returns their directories
// by volume name.
func setUpEmptyDirs(s *sandbox, pod *corev1.Pod) (map[string]string, error) {
	dirs := map[string]string{}
	for _, v := range pod.Spec.Volumes {
		ed := v.EmptyDir
		if ed == nil {
			continue
		}
		if v.Name == "" || v.Name == "." || v.Name == ".." || strings.ContainsRune(v.Name, '/') {
			return nil, fmt.Errorf("emptyDir: invalid volume name %q", v.Name) // the API admits DNS labels only
		}
		dir := emptyDirPath(s, v.Name)
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			return nil, fmt.Errorf("emptyDir %s: %w", v.Name, err)
		}
		if err := os.Mkdir(dir, 0o777); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("emptyDir %s: %w", v.Name, err)
		}
		switch ed.Medium {
		case corev1.StorageMediumDefault:
		case corev1.StorageMediumMemory:
			mounted, err := isMountPoint(dir)
			if err != nil {
				return nil, fmt.Errorf("emptyDir %s: %w", v.Name, err)
			}
			if !mounted {
				opts := "mode=0777"
				if size := memoryEmptyDirSize(pod, ed); size > 0 {
					opts += ",size=" + strconv.FormatInt(size, 10)
				}
				if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, opts); err != nil {
					return nil, fmt.Errorf("emptyDir %s: mount tmpfs on %s: %w", v.Name, dir, err)
				}
			}
		default:
			return nil, fmt.Errorf("emptyDir %s: medium %q is not supported", v.Name, ed.Medium)
		}
		// 0777 whatever the agent's umask, as the kubelet's setupDir
		// makes it at every set-up
		if err := os.Chmod(dir, 0o777); err != nil {
			return nil, fmt.Errorf("emptyDir %s: %w", v.Name, err)
		}
		dirs[v.Name] = dir
	}
	return dirs, nil
}

// memoryEmptyDirSize is the size of a Memory emptyDir's tmpfs in bytes, 0
// for the kernel's default (half of the node's RAM). As the kubelet's: the
// pod's memory limit (the sum of its containers' limits, when every
// container has one), lowered to sizeLimit when that is set and smaller;
// where the kubelet falls back to the node's allocatable memory, weir
// leaves the kernel's default.
func memoryEmptyDirSize(pod *corev1.Pod, ed *corev1.EmptyDirVolumeSource) int64 {
	var podLimit int64
	for _, c := range pod.Spec.Containers {
		m, ok := c.Resources.Limits[corev1.ResourceMemory]
		if !ok || m.Value() <= 0 {
			podLimit = 0
			break
		}
		podLimit += m.Value()
	}
	size := podLimit
	if ed.SizeLimit != nil && ed.SizeLimit.Value() > 0 && (size == 0 || ed.SizeLimit.Value() < size) {
		size = ed.SizeLimit.Value()
	}
	return size
}

// isMountPoint: something is mounted on dir (in the agent's mount
// namespace).
func isMountPoint(dir string) (bool, error) {
	mounts, err := mountsUnder(dir)
	if err != nil {
		return false, err
	}
	real := realPath(dir)
	return slices.Contains(mounts, real), nil
}

// unmountUnder unmounts everything mounted on or below dir, deepest
// first, so that removing dir deletes no mounted file system's contents
// and leaves no mount behind. A mount still busy is detached (gone from
// the namespace at once; freed when its last user goes).
func unmountUnder(dir string) error {
	for range 8 { // stacked mounts: each round removes the top ones
		mounts, err := mountsUnder(dir)
		if err != nil {
			return err
		}
		if len(mounts) == 0 {
			return nil
		}
		slices.SortFunc(mounts, func(a, b string) int { return len(b) - len(a) })
		for _, m := range mounts {
			err := unix.Unmount(m, unix.UMOUNT_NOFOLLOW)
			if errors.Is(err, unix.EBUSY) {
				err = unix.Unmount(m, unix.MNT_DETACH|unix.UMOUNT_NOFOLLOW)
			}
			if err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
				return fmt.Errorf("unmount %s: %w", m, err)
			}
		}
	}
	if mounts, err := mountsUnder(dir); err != nil || len(mounts) > 0 {
		return fmt.Errorf("mounts left under %s: %v %v", dir, mounts, err)
	}
	return nil
}

// mountsUnder lists the mount points at or below dir in the agent's mount
// namespace (from /proc/self/mountinfo).
func mountsUnder(dir string) ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	real := realPath(dir)
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMountPath(fields[4])
		if mp == real || strings.HasPrefix(mp, real+"/") {
			out = append(out, mp)
		}
	}
	return out, sc.Err()
}

// realPath is dir with symlinks resolved (as mountinfo shows it), or as
// cleaned when it does not exist (nothing can be mounted there then,
// but its parent's links are resolved when possible).
func realPath(dir string) string {
	dir = filepath.Clean(dir)
	if r, err := filepath.EvalSymlinks(dir); err == nil {
		return r
	}
	if r, err := filepath.EvalSymlinks(filepath.Dir(dir)); err == nil {
		return filepath.Join(r, filepath.Base(dir))
	}
	return dir
}

// unescapeMountPath undoes mountinfo's octal escapes (\040 for a space,
// \011, \012, \134).
func unescapeMountPath(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// MountTmpfs makes dir (0755) a tmpfs unless one is mounted there already
// (an adopted pod's). Volumes implementations (Config.Volumes) keep
// Secrets and tokens off the node's disk with it, as the kubelet does;
// dir must be under the pod's directory, whose removal unmounts it.
func MountTmpfs(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	mounted, err := isMountPoint(dir)
	if err != nil || mounted {
		return err
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755"); err != nil {
		return fmt.Errorf("mount tmpfs on %s: %w", dir, err)
	}
	return nil
}
