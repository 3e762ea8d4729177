package testutil

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Cgroup2Root returns the mount point of the cgroup v2 hierarchy: the
// unified mount in hybrid mode (/sys/fs/cgroup/unified) or /sys/fs/cgroup.
func Cgroup2Root() (string, error) {
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		return "", err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) >= 3 && fields[2] == "cgroup2" {
			return fields[1], nil
		}
	}
	return "", errors.New("no cgroup2 mount found in /proc/self/mounts: mount cgroup2 (e.g. at /sys/fs/cgroup/unified)")
}

// NewCgroup creates a cgroup v2 directory weir<suffix>-<random> below the
// cgroup2 root and removes it when the test ends, killing whatever the test
// left inside.
func NewCgroup(t testing.TB, suffix string) string {
	t.Helper()
	RequirePrivileged(t)
	root, err := Cgroup2Root()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, UniqueName("weir"+suffix+"-"))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatalf("create cgroup %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := RemoveCgroup(dir); err != nil {
			t.Errorf("remove cgroup: %v", err)
		}
	})
	return dir
}

// EnterCgroup moves process pid into the cgroup directory dir.
func EnterCgroup(dir string, pid int) error {
	return os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644)
}

// RemoveCgroup removes dir's sub-cgroups deepest first (a runtime's pod
// cgroups), then dir: it kills the processes still in each (the test's own
// children) and removes the directory, retrying briefly while they exit.
func RemoveCgroup(dir string) error {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.IsDir() {
			if err := RemoveCgroup(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	var err error
	for i := 0; i < 50; i++ {
		if data, rerr := os.ReadFile(filepath.Join(dir, "cgroup.procs")); rerr == nil {
			for _, f := range strings.Fields(string(data)) {
				if pid, perr := strconv.Atoi(f); perr == nil {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		}
		if err = os.Remove(dir); err == nil || errors.Is(err, os.ErrNotExist) {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return err
}
