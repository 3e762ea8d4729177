package runtime

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// cgroupPaths splits the node's cgroup root into the cgroup2 mount and
// the path below it (what the OCI spec's cgroupsPath holds). runc creates
// the same relative path in every v1 hierarchy in hybrid mode.
func cgroupPaths(root string) (mount, rel string, err error) {
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) < 3 || fields[2] != "cgroup2" {
			continue
		}
		if r, err := filepath.Rel(fields[1], root); err == nil && !strings.HasPrefix(r, "..") {
			return fields[1], "/" + strings.TrimPrefix(r, "."), nil
		}
	}
	return "", "", fmt.Errorf("runtime: cgroup root %s is not under a cgroup2 mount: give the node a cgroup v2 directory", root)
}

// removePodCgroups removes the pod's directory (rel) in the cgroup2 mount
// and in every v1 hierarchy runc created it in. Directories still in use
// are reported.
func removePodCgroups(mount, rel string) error {
	dirs := []string{filepath.Join(mount, rel)}
	if v1, err := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", rel)); err == nil {
		dirs = append(dirs, v1...)
	}
	var errs []error
	for _, d := range dirs {
		if err := os.Remove(d); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove cgroup %s: %w", d, err))
		}
	}
	return errors.Join(errs...)
}
