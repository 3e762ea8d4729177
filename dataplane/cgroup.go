package dataplane

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// sockHooks are the socket-LB programs and their cgroup attach points.
var sockHooks = []struct {
	prog   string
	attach ebpf.AttachType
}{
	{lbProgSock4Connect, ebpf.AttachCGroupInet4Connect},
	{lbProgSock4Sendmsg, ebpf.AttachCGroupUDP4Sendmsg},
	{lbProgSock4Recvmsg, ebpf.AttachCGroupUDP4Recvmsg},
	{lbProgSock4Getpeername, ebpf.AttachCgroupInet4GetPeername},
	{lbProgSock6Connect, ebpf.AttachCGroupInet6Connect},
	{lbProgSock6Sendmsg, ebpf.AttachCGroupUDP6Sendmsg},
	{lbProgSock6Recvmsg, ebpf.AttachCGroupUDP6Recvmsg},
	{lbProgSock6Getpeername, ebpf.AttachCgroupInet6GetPeername},
}

func linkPin(pinDir, prog string) string { return filepath.Join(pinDir, "link_"+prog) }

// checkCgroup refuses paths that are not cgroup v2 directories, and the
// cgroup2 root (that would load-balance every process on the host).
func checkCgroup(path string) (uint64, error) {
	if path == "" {
		return 0, errors.New("dataplane: no cgroup given: set Config.CgroupPath (--cgroup) to the cgroup v2 directory of the pods")
	}
	var fs unix.Statfs_t
	if err := unix.Statfs(path, &fs); err != nil {
		return 0, fmt.Errorf("dataplane: cgroup %s: %w", path, err)
	}
	if fs.Type != unix.CGROUP2_SUPER_MAGIC {
		return 0, fmt.Errorf("dataplane: %s is not on a cgroup v2 filesystem: give a directory under the cgroup2 mount", path)
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return 0, fmt.Errorf("dataplane: cgroup %s: %w", path, err)
	}
	if root, ok := cgroup2Mount(real); ok && filepath.Clean(real) == root {
		return 0, fmt.Errorf("dataplane: refusing the cgroup2 root %s: give a child cgroup holding the pods", real)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return 0, fmt.Errorf("dataplane: cgroup %s: %w", path, err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino, nil
}

// cgroup2Mount returns the cgroup2 mount point that contains path.
func cgroup2Mount(path string) (string, bool) {
	data, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return "", false
	}
	best := ""
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[2] == "cgroup2" && (path == f[1] || strings.HasPrefix(path, f[1]+"/")) && len(f[1]) > len(best) {
			best = f[1]
		}
	}
	return best, best != ""
}

// attachCgroup attaches (or, after a restart, atomically updates) the
// socket hooks through pinned bpf_links, which keep them attached after the
// process exits.
func attachCgroup(cfg Config, coll *ebpf.Collection) ([]link.Link, error) {
	cgID, err := checkCgroup(cfg.CgroupPath)
	if err != nil {
		return nil, err
	}
	var links []link.Link
	for _, h := range sockHooks {
		l, err := attachHook(cfg, cgID, coll.Programs[h.prog], h.prog, h.attach)
		if err != nil {
			closeLinks(links)
			return nil, err
		}
		links = append(links, l)
	}
	return links, nil
}

func attachHook(cfg Config, cgID uint64, prog *ebpf.Program, name string, at ebpf.AttachType) (link.Link, error) {
	pin := linkPin(cfg.PinDir(), name)
	if old, err := link.LoadPinnedLink(pin, nil); err == nil {
		if info, err := old.Info(); err == nil && info.Cgroup() != nil && info.Cgroup().CgroupId == cgID {
			if err := old.Update(prog); err != nil {
				old.Close()
				return nil, fmt.Errorf("dataplane: update %s on %s: %w", name, cfg.CgroupPath, err)
			}
			return old, nil
		}
		// Attached to another cgroup: the configuration moved it.
		_ = old.Unpin()
		old.Close()
	}
	l, err := link.AttachCgroup(link.CgroupOptions{Path: cfg.CgroupPath, Attach: at, Program: prog})
	if err != nil {
		return nil, fmt.Errorf("dataplane: attach %s to %s: %w", name, cfg.CgroupPath, err)
	}
	if err := l.Pin(pin); err != nil {
		l.Close()
		return nil, fmt.Errorf("dataplane: pin %s link (needs bpf_link, kernel >= 5.7): %w", name, err)
	}
	return l, nil
}

func closeLinks(ls []link.Link) {
	for _, l := range ls {
		l.Close()
	}
}

// detachCgroup unpins and closes the instance's cgroup links: the hooks go.
func detachCgroup(pinDir string) error {
	var errs []error
	for _, h := range sockHooks {
		l, err := link.LoadPinnedLink(linkPin(pinDir, h.prog), nil)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("open pinned link %s: %w", h.prog, err))
			continue
		}
		if err := l.Detach(); err != nil && !errors.Is(err, ebpf.ErrNotSupported) {
			errs = append(errs, fmt.Errorf("detach %s: %w", h.prog, err))
		}
		if err := l.Unpin(); err != nil {
			errs = append(errs, err)
		}
		l.Close()
	}
	return errors.Join(errs...)
}
