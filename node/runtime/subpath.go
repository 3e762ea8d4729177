package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
)

// volumeMounts with subPath or subPathExpr mount one file or directory of
// a volume, as the kubelet does: subPathExpr is expanded with the
// container's environment; the path must stay relative and free of "..";
// a missing path is created as a directory (with the volume root's mode);
// symlinks inside the volume are followed but the result must stay inside
// it. The path is then opened component by component without following
// symlinks and that open file is bind-mounted (through /proc/self/fd) on
// pods/<uid>/volume-subpaths/<volume>/<container>/<index>, which the
// container mounts: a container swapping a directory for a symlink
// between the check and the mount cannot make it point outside the
// volume. The binds go with the pod's directory (unmountUnder).
const subPathDir = "volume-subpaths"

// subPathMounts binds c's subPath volumeMounts and returns their mounts;
// an expansion, an escaping path or a failed bind is a *configError
// (CreateContainerConfigError), as with the kubelet.
func subPathMounts(s *sandbox, c *corev1.Container, env []corev1.EnvVar) ([]specs.Mount, error) {
	var out []specs.Mount
	for i, vm := range c.VolumeMounts {
		if vm.SubPath == "" && vm.SubPathExpr == "" {
			continue
		}
		src, ok := s.volumes[vm.Name]
		if !ok {
			continue // not materialized here: as volumeMounts
		}
		sub := vm.SubPath
		if vm.SubPathExpr != "" {
			var err error
			if sub, err = expandSubPath(vm.SubPathExpr, env); err != nil {
				return nil, &configError{err}
			}
		}
		var m specs.Mount
		if sub == "" { // an expression that expanded to nothing: the whole volume, as the kubelet mounts it
			m = bindMount(src, vm.MountPath)
		} else {
			if filepath.IsAbs(sub) {
				return nil, &configError{fmt.Errorf("error SubPath `%s` must not be an absolute path", sub)}
			}
			if slices.Contains(strings.Split(filepath.ToSlash(sub), "/"), "..") {
				return nil, &configError{fmt.Errorf("unable to provision SubPath `%s`: must not contain '..'", sub)}
			}
			target := filepath.Join(s.dir, subPathDir, vm.Name, c.Name, strconv.Itoa(i))
			if err := bindSubPath(src, sub, target); err != nil {
				return nil, &configError{fmt.Errorf("failed to prepare subPath for volumeMount %q of container %q: %w", vm.Name, c.Name, err)}
			}
			m = bindMount(target, vm.MountPath)
		}
		if s.writable[vm.Name] && !vm.ReadOnly {
			m.Options = []string{"rbind", "rprivate", "rw"}
		}
		out = append(out, m)
	}
	return out, nil
}

// expandSubPath expands $(VAR) in a subPathExpr with env; a reference to
// a variable that is missing or empty is an error, as the kubelet's.
func expandSubPath(expr string, env []corev1.EnvVar) (string, error) {
	vals := make(map[string]string, len(env))
	for _, e := range env {
		vals[e.Name] = e.Value
	}
	var missing []string
	out := expand(expr, func(k string) (string, bool) {
		v, ok := vals[k]
		if (!ok || v == "") && !slices.Contains(missing, k) {
			missing = append(missing, k)
		}
		return v, true
	})
	if len(missing) > 0 {
		slices.Sort(missing)
		return "", fmt.Errorf("missing value for %s", strings.Join(missing, ", "))
	}
	return out, nil
}

// bindSubPath bind-mounts sub of the volume directory vol on target (a
// file or directory made to match), replacing an earlier bind there.
func bindSubPath(vol, sub, target string) error {
	base, err := filepath.EvalSymlinks(vol)
	if err != nil {
		return err
	}
	full := filepath.Join(vol, sub)
	if _, err := os.Lstat(full); errors.Is(err, os.ErrNotExist) {
		if err := mkdirInVolume(base, sub); err != nil {
			return err
		}
	}
	resolved, err := filepath.EvalSymlinks(full)
	if err != nil {
		return err
	}
	rel, ok := within(base, resolved)
	if !ok {
		return fmt.Errorf("subpath %q not within volume path %q", resolved, base)
	}
	fd, err := openInVolume(base, rel, unix.O_PATH)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
	if err := unmountAll(target); err != nil {
		return err
	}
	if err := makeTarget(target, isDir); err != nil {
		return err
	}
	if err := unix.Mount(fmt.Sprintf("/proc/self/fd/%d", fd), target, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind %s on %s: %w", resolved, target, err)
	}
	return nil
}

// within is path relative to base, when it is base or below it.
func within(base, path string) (string, bool) {
	if path == base {
		return ".", true
	}
	rel, ok := strings.CutPrefix(path, base+"/")
	return rel, ok
}

// openInVolume opens base/rel (base has no symlinks) component by
// component without following symlinks: a symlink anywhere fails it.
// flags is O_PATH or O_RDONLY|O_DIRECTORY; the caller closes the fd.
func openInVolume(base, rel string, flags int) (int, error) {
	fd, err := unix.Open(base, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open %s: %w", base, err)
	}
	parts := strings.Split(rel, "/")
	if rel == "." {
		parts = nil
	}
	for i, p := range parts {
		f := unix.O_PATH | unix.O_NOFOLLOW | unix.O_CLOEXEC
		if i < len(parts)-1 {
			f |= unix.O_DIRECTORY
		} else {
			f = flags | unix.O_NOFOLLOW | unix.O_CLOEXEC
		}
		child, err := unix.Openat(fd, p, f, 0)
		unix.Close(fd)
		if err != nil {
			return -1, fmt.Errorf("open %s in %s: %w", strings.Join(parts[:i+1], "/"), base, err)
		}
		var st unix.Stat_t
		if err := unix.Fstat(child, &st); err != nil || st.Mode&unix.S_IFMT == unix.S_IFLNK {
			unix.Close(child)
			return -1, fmt.Errorf("%s in %s is a symlink", strings.Join(parts[:i+1], "/"), base)
		}
		fd = child
	}
	if rel == "." && flags != unix.O_PATH {
		unix.Close(fd)
		return unix.Open(base, flags|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	}
	return fd, nil
}

// mkdirInVolume creates the missing directories of sub in the volume
// at base (no symlinks), with the mode of base, as the kubelet's
// SafeMakeDir: the existing part may go through symlinks but must stay
// inside the volume; each new directory is made relative to its opened
// parent, so none can be redirected.
func mkdirInVolume(base, sub string) error {
	info, err := os.Stat(base)
	if err != nil {
		return err
	}
	mode := uint32(info.Mode().Perm())
	if info.Mode()&os.ModeSetgid != 0 {
		mode |= unix.S_ISGID
	}
	parts := strings.Split(filepath.Clean(sub), "/")
	n := len(parts)
	for ; n > 0; n-- {
		if _, err := os.Lstat(filepath.Join(base, filepath.Join(parts[:n]...))); err == nil {
			break
		}
	}
	existing, err := filepath.EvalSymlinks(filepath.Join(base, filepath.Join(parts[:n]...)))
	if err != nil {
		return err
	}
	rel, ok := within(base, existing)
	if !ok {
		return fmt.Errorf("subpath %q not within volume path %q", existing, base)
	}
	fd, err := openInVolume(base, rel, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	for _, p := range parts[n:] {
		if err := unix.Mkdirat(fd, p, mode); err != nil && !errors.Is(err, unix.EEXIST) {
			unix.Close(fd)
			return fmt.Errorf("mkdir %s in %s: %w", p, existing, err)
		}
		child, err := unix.Openat(fd, p, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("open %s in %s: %w", p, existing, err)
		}
		fd = child
		if err := unix.Fchmod(fd, mode); err != nil { // the umask applied to mkdirat
			unix.Close(fd)
			return err
		}
	}
	return unix.Close(fd)
}

// unmountAll removes every bind stacked on target.
func unmountAll(target string) error {
	for range 64 {
		err := unix.Unmount(target, unix.MNT_DETACH|unix.UMOUNT_NOFOLLOW)
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOENT) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("unmount %s: %w", target, err)
		}
	}
	return fmt.Errorf("unmount %s: still mounted", target)
}

// makeTarget makes target an empty directory or file (replacing one of
// the other kind, from an earlier instance).
func makeTarget(target string, dir bool) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o750); err != nil {
		return err
	}
	if info, err := os.Lstat(target); err == nil {
		if info.IsDir() == dir && info.Mode().Type()&os.ModeSymlink == 0 {
			return nil
		}
		if err := os.Remove(target); err != nil {
			return err
		}
	}
	if dir {
		return os.Mkdir(target, 0o750)
	}
	f, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	return f.Close()
}
