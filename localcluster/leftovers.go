package localcluster

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// Leftovers lists what a cluster with cfg's prefix and data dir still has
// on the machine: network namespaces, root-netns links, cgroups and BPF
// pins named PREFIX-underlay or PREFIX-node-N, mounts under the data
// dir, processes whose command line names the data dir, and the data dir
// itself (unless keepData). After Down it is empty.
func Leftovers(cfg Config, keepData bool) []string {
	if err := cfg.defaults(); err != nil {
		return []string{err.Error()}
	}
	mine := func(name string) bool { return name == cfg.underlay() || strings.HasPrefix(name, cfg.Prefix+"-node-") }
	var left []string
	if out, err := exec.Command("ip", "netns", "list").Output(); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			if f := strings.Fields(line); len(f) > 0 && mine(f[0]) {
				left = append(left, "netns "+f[0])
			}
		}
	}
	if out, err := exec.Command("ip", "-o", "link").Output(); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			if f := strings.Fields(line); len(f) > 1 && mine(strings.TrimSuffix(strings.Split(f[1], "@")[0], ":")) {
				left = append(left, "link "+strings.TrimSuffix(f[1], ":"))
			}
		}
	}
	for _, root := range []string{"/sys/fs/cgroup", "/sys/fs/bpf"} {
		left = append(left, dirsNamed(root, mine)...)
	}
	if mounts, err := os.ReadFile("/proc/self/mounts"); err == nil && bytes.Contains(mounts, []byte(cfg.DataDir+"/")) {
		left = append(left, "mounts under "+cfg.DataDir)
	}
	left = append(left, processesNaming(cfg.DataDir)...)
	if _, err := os.Stat(cfg.DataDir); err == nil && !keepData {
		left = append(left, "data dir "+cfg.DataDir)
	}
	return left
}

// dirsNamed lists the directories under root (at most 6 levels deep)
// whose name mine accepts, without descending into them.
func dirsNamed(root string, mine func(string) bool) []string {
	var out []string
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if mine(d.Name()) {
			out = append(out, p)
			return filepath.SkipDir
		}
		if strings.Count(p, "/") > 6 {
			return filepath.SkipDir
		}
		return nil
	})
	return out
}

// processesNaming lists the processes whose command line contains s,
// other than this one and its ancestors (the shell or make that ran
// `weir down --data-dir DIR` names the data dir too).
func processesNaming(s string) []string {
	var out []string
	skip := ancestors()
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		pid := filepath.Base(filepath.Dir(p))
		if skip[pid] {
			continue
		}
		if data, err := os.ReadFile(p); err == nil && bytes.Contains(data, []byte(s)) {
			out = append(out, fmt.Sprintf("process %s: %s", pid, bytes.ReplaceAll(bytes.TrimRight(data, "\x00"), []byte{0}, []byte{' '})))
		}
	}
	return out
}

// ancestors is this process and its parents, up to init.
func ancestors() map[string]bool {
	out := map[string]bool{}
	pid := os.Getpid()
	for i := 0; i < 64 && pid > 1; i++ {
		out[strconv.Itoa(pid)] = true
		data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
		if err != nil {
			break
		}
		next := 0
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "PPid:"); ok {
				next, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
		pid = next
	}
	return out
}
