package runtime

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
)

// fsGroup (the pod's securityContext) makes its volumes the group's, as
// the kubelet's SetVolumeOwnership does: every file and directory gets
// the group, group read-write (read-only volumes: read) permissions on
// top of its own, and directories get the setgid bit and group search,
// so that what the containers create inherits the group; symlinks only
// change group. Every container has fsGroup among its groups
// (secctx.go). An emptyDir's root is set at each set-up (it is empty at
// the first, and the kubelet never walks it again); configMap, secret,
// downwardAPI and projected volumes are walked whenever they are written
// (Config.Volumes calls SetVolumeOwnership). fsGroupChangePolicy has no
// effect on these volume types in Kubernetes either.

// Permission bits fsGroup adds.
const (
	fsGroupRW   = 0o660
	fsGroupRO   = 0o440
	fsGroupExec = 0o110
)

// FSGroup is the pod's fsGroup, nil when it has none.
func FSGroup(pod *corev1.Pod) *int64 {
	if sc := pod.Spec.SecurityContext; sc != nil {
		return sc.FSGroup
	}
	return nil
}

// fsGroupEmptyDirs gives the pod's emptyDir directories (dirs, by volume
// name, as setUpEmptyDirs made them) to its fsGroup.
func fsGroupEmptyDirs(pod *corev1.Pod, dirs map[string]string) error {
	gid := FSGroup(pod)
	if gid == nil {
		return nil
	}
	for name, dir := range dirs {
		fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("emptyDir %s: %w", name, err)
		}
		err = ownFD(fd, *gid, false)
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("emptyDir %s: fsGroup: %w", name, err)
		}
	}
	return nil
}

// fsGroupClaim gives a writable claim's volume at dir to the pod's
// fsGroup, as the kubelet does for local volumes: the whole tree, or with
// fsGroupChangePolicy OnRootMismatch nothing when the volume's root has
// the group and the setgid bit already.
func fsGroupClaim(pod *corev1.Pod, dir string) error {
	gid := FSGroup(pod)
	if gid == nil {
		return nil
	}
	if p := pod.Spec.SecurityContext.FSGroupChangePolicy; p != nil && *p == corev1.FSGroupChangeOnRootMismatch {
		var st unix.Stat_t
		if err := unix.Lstat(dir, &st); err == nil && int64(st.Gid) == *gid && st.Mode&unix.S_ISGID != 0 {
			return nil
		}
	}
	return SetVolumeOwnership(dir, *gid, false)
}

// SetVolumeOwnership gives everything under dir (which must not be a
// symlink) to group gid, with the fsGroup permissions (readOnly: read
// only). The walk opens each entry relative to its parent without
// following symlinks, so a container that replaces files meanwhile
// cannot redirect it outside the volume.
func SetVolumeOwnership(dir string, gid int64, readOnly bool) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("fsGroup %s: %w", dir, err)
	}
	if err := ownTree(fd, dir, gid, readOnly); err != nil {
		return fmt.Errorf("fsGroup %s: %w", dir, err)
	}
	return nil
}

// ownTree owns the directory fd (closed here) and what is in it.
func ownTree(fd int, path string, gid int64, readOnly bool) error {
	dir := os.NewFile(uintptr(fd), path)
	defer dir.Close()
	if err := ownFD(fd, gid, readOnly); err != nil {
		return err
	}
	entries, err := dir.ReadDir(-1)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		switch {
		case e.Type()&os.ModeSymlink != 0:
			if err := unix.Fchownat(fd, name, -1, int(gid), unix.AT_SYMLINK_NOFOLLOW); err != nil && !errors.Is(err, unix.ENOENT) {
				return fmt.Errorf("chown %s/%s: %w", path, name, err)
			}
		case e.IsDir():
			child, err := unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			if errors.Is(err, unix.ENOENT) {
				continue
			} else if err != nil {
				return fmt.Errorf("open %s/%s: %w", path, name, err)
			}
			if err := ownTree(child, path+"/"+name, gid, readOnly); err != nil {
				return err
			}
		default:
			child, err := unix.Openat(fd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			if errors.Is(err, unix.ENOENT) {
				continue
			} else if err != nil {
				return fmt.Errorf("open %s/%s: %w", path, name, err)
			}
			err = ownFD(child, gid, readOnly)
			unix.Close(child)
			if err != nil {
				return fmt.Errorf("%s/%s: %w", path, name, err)
			}
		}
	}
	return nil
}

// ownFD sets the group and adds the fsGroup permissions to the open
// file fd (an O_PATH fd of a file: chmod goes through /proc/self/fd, as
// fchmod refuses O_PATH fds). A symlink (raced in) is only chowned.
func ownFD(fd int, gid int64, readOnly bool) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if err := unix.Fchownat(fd, "", -1, int(gid), unix.AT_EMPTY_PATH); err != nil {
		return fmt.Errorf("chown: %w", err)
	}
	add := uint32(fsGroupRW)
	if readOnly {
		add = fsGroupRO
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFLNK:
		return nil
	case unix.S_IFDIR:
		add |= fsGroupExec | unix.S_ISGID
		return unix.Fchmod(fd, st.Mode&0o7777|add)
	}
	return unix.Chmod(fmt.Sprintf("/proc/self/fd/%d", fd), st.Mode&0o7777|add)
}
