package localcluster

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// checkPrereqs checks everything Up needs and returns the cgroup2 root.
// The error lists every missing piece and what to do about it.
func checkPrereqs(cfg *Config) (string, error) {
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root: run `sudo weir up` (or `sudo make up`)")
	}
	for _, b := range []string{"containerd", "runc", "ip", "nsenter", "busybox"} {
		if _, err := exec.LookPath(b); err != nil {
			missing = append(missing, fmt.Sprintf("%s binary not in PATH: install it (Debian: apt-get install containerd runc iproute2 util-linux busybox-static)", b))
		}
	}
	for _, b := range []string{"weir", "weir-cni"} {
		if _, err := os.Stat(filepath.Join(cfg.Bin, b)); err != nil {
			missing = append(missing, fmt.Sprintf("%s not found in %s: run `make build` or pass --bin", b, cfg.Bin))
		}
	}
	cg2, err := cgroup2Root()
	if err != nil {
		missing = append(missing, err.Error())
	}
	if len(missing) == 0 {
		if err := ensureBPFFS(); err != nil {
			missing = append(missing, err.Error())
		}
	}
	if len(missing) > 0 {
		return "", fmt.Errorf("cannot start the local cluster; missing:\n  - %s", strings.Join(missing, "\n  - "))
	}
	return cg2, nil
}

// cgroup2Root is the mount point of the cgroup v2 hierarchy.
func cgroup2Root() (string, error) {
	mounts, err := readMounts()
	if err != nil {
		return "", err
	}
	for _, m := range mounts {
		if m[2] == "cgroup2" {
			return m[1], nil
		}
	}
	return "", errors.New("cgroup v2: no cgroup2 mount; boot with systemd.unified_cgroup_hierarchy or mount cgroup2 (mount -t cgroup2 none /sys/fs/cgroup/unified)")
}

// ensureBPFFS mounts bpffs at /sys/fs/bpf when it is not mounted.
func ensureBPFFS() error {
	mounts, err := readMounts()
	if err != nil {
		return err
	}
	for _, m := range mounts {
		if m[1] == "/sys/fs/bpf" && m[2] == "bpf" {
			return nil
		}
	}
	if err := os.MkdirAll("/sys/fs/bpf", 0o755); err != nil {
		return fmt.Errorf("bpffs: create /sys/fs/bpf: %w", err)
	}
	if err := unix.Mount("bpffs", "/sys/fs/bpf", "bpf", 0, ""); err != nil {
		return fmt.Errorf("bpffs: mount at /sys/fs/bpf: %w (mount -t bpf bpffs /sys/fs/bpf)", err)
	}
	return nil
}

// readMounts returns the fields of /proc/self/mounts.
func readMounts() ([][]string, error) {
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out [][]string
	for s := bufio.NewScanner(f); s.Scan(); {
		if fields := strings.Fields(s.Text()); len(fields) >= 3 {
			out = append(out, fields)
		}
	}
	return out, nil
}
