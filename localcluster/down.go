package localcluster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/weirnet/weir/dataplane"
)

// Down stops everything Up started (every recorded process, known by
// PID and start time, also after a failed Up), removes the pods'
// containers and netns, every node's dataplane instance (pins and
// attachments), cgroups, the node and underlay netns and, unless
// keepData, the data dir.
func Down(cfg Config, keepData bool) error {
	if err := cfg.defaults(); err != nil {
		return err
	}
	s, err := loadState(cfg.stateFile())
	if errors.Is(err, os.ErrNotExist) {
		s = state{}
	} else if err != nil {
		return err
	}
	step := func(format string, a ...any) { fmt.Fprintf(cfg.Out, "==> %s\n", fmt.Sprintf(format, a...)) }
	var errs []error
	_ = os.Remove(cfg.readyFile())
	podNetns := podNetnsNames(s)
	// Every recorded process, also those of a failed Up that the state
	// does not name: agents first (nothing restarts containers then),
	// containerd, the proxy, the members last.
	agents, members := recordedNames(&cfg, s)
	for _, n := range agents {
		errs = appendErr(errs, stopRecorded(&cfg, n, "weir", 10*time.Second))
	}
	if _, ok := runningRecorded(&cfg, containerdProc, "containerd"); ok {
		step("removing the pods' containers")
		if err := removeAllContainers(s.Containerd); err != nil {
			errs = append(errs, err)
		}
	}
	errs = appendErr(errs, stopRecorded(&cfg, containerdProc, "containerd", 15*time.Second))
	errs = appendErr(errs, stopRecorded(&cfg, proxyProc, "weir", 5*time.Second))
	errs = appendErr(errs, stopMembers(&cfg, members))
	for _, ns := range podNetns {
		if err := deleteNetns(ns); err != nil {
			errs = append(errs, err)
		}
	}
	for _, n := range s.Nodes {
		step("removing node %s (dataplane, cgroup, netns)", n.Name)
		if err := dataplane.Cleanup(dataplane.Config{Instance: n.Name, CgroupPath: n.Cgroup}); err != nil {
			errs = append(errs, fmt.Errorf("dataplane cleanup %s: %w", n.Name, err))
		}
		if err := removeNodeCgroups(s.Cgroup2, n.Cgroup); err != nil {
			errs = append(errs, err)
		}
		if err := deleteNetns(n.Name); err != nil {
			errs = append(errs, err)
		}
	}
	if s.Underlay != "" {
		if err := deleteNetns(s.Underlay); err != nil {
			errs = append(errs, err)
		}
	}
	if err := unmountUnder(cfg.DataDir); err != nil {
		errs = append(errs, err)
	}
	if keepData {
		step("kept the control plane data in %s", cfg.DataDir)
	} else {
		step("removing %s", cfg.DataDir)
		if err := os.RemoveAll(cfg.DataDir); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("weir down left something behind: %w", err)
	}
	if left := Leftovers(cfg, keepData); len(left) > 0 {
		return fmt.Errorf("weir down left something behind (remove it by hand, or run weir down again): %s", strings.Join(left, "; "))
	}
	step("weir is down: nothing of it is left")
	return nil
}

// recordedNames are the names of the recorded agents (the state's nodes
// and every other PID file but containerd's and the proxy's) and members
// (the state's and every control-N PID file, so that a state file from an
// older weir still stops them), sorted.
func recordedNames(cfg *Config, s state) (agents, members []string) {
	names := map[string]bool{}
	for _, n := range s.Nodes {
		names[n.Name] = true
	}
	for _, m := range s.Members {
		names[m.Name] = true
	}
	files, _ := filepath.Glob(filepath.Join(cfg.DataDir, "pids", "*.pid"))
	for _, f := range files {
		names[strings.TrimSuffix(filepath.Base(f), ".pid")] = true
	}
	for n := range names {
		switch {
		case n == containerdProc || n == proxyProc:
		case strings.HasPrefix(n, "control-"):
			members = append(members, n)
		default:
			agents = append(agents, n)
		}
	}
	slices.Sort(agents)
	slices.Sort(members)
	return agents, members
}

// stopMembers stops the named control members, all at once.
func stopMembers(cfg *Config, names []string) error {
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Go(func() { errs[i] = stopRecorded(cfg, n, "weir", 15*time.Second) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func appendErr(errs []error, err error) []error {
	if err != nil {
		errs = append(errs, err)
	}
	return errs
}

// podNetnsNames are the netns of the pods the agents ran (the runtime
// names them weir-pod-<first 12 hex digits of the UID>).
func podNetnsNames(s state) []string {
	var out []string
	for _, n := range s.Nodes {
		entries, _ := os.ReadDir(filepath.Join(n.Dir, "pods", "pods"))
		for _, e := range entries {
			short := strings.ReplaceAll(e.Name(), "-", "")
			out = append(out, "weir-pod-"+short[:min(12, len(short))])
		}
	}
	return out
}

// removeNodeCgroups kills what is left in a node's cgroup tree and
// removes it, with the cgroup v1 directories runc made in hybrid mode.
func removeNodeCgroups(cgroup2, dir string) error {
	if dir == "" || cgroup2 == "" {
		return nil
	}
	rel, err := filepath.Rel(cgroup2, dir)
	if err != nil || strings.HasPrefix(rel, "..") || rel == "." {
		return fmt.Errorf("cgroup %s is not below %s", dir, cgroup2)
	}
	dirs, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", rel))
	dirs = append(dirs, dir)
	var errs []error
	for _, d := range dirs {
		if err := removeCgroupTree(d); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// removeCgroupTree removes dir's sub-cgroups deepest first, then dir,
// killing the processes left inside.
func removeCgroupTree(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil // gone already
	}
	for _, e := range entries {
		if e.IsDir() {
			if err := removeCgroupTree(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	for i := 0; i < 100; i++ {
		if data, err := os.ReadFile(filepath.Join(dir, "cgroup.procs")); err == nil {
			for _, f := range strings.Fields(string(data)) {
				if pid, err := strconv.Atoi(f); err == nil && pid > 1 {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		}
		if err = os.Remove(dir); err == nil || errors.Is(err, os.ErrNotExist) {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("remove cgroup %s: %w", dir, err)
}
