package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/weirnet/weir/control/localcluster"
)

// checkDown runs Down and checks that nothing of the run is left: no
// netns, link, BPF pin, cgroup, mount, process or data dir.
func checkDown(t *testing.T, e *env) {
	var out bytes.Buffer
	cfg := e.cfg
	cfg.Out = &out
	pids := recordedPIDs(cfg.DataDir)
	if err := localcluster.Down(cfg, false); err != nil {
		t.Fatalf("Down: %v\n%s", err, out.String())
	}
	prefix := cfg.Prefix
	for name, pid := range pids {
		if _, err := os.Stat("/proc/" + pid); err == nil {
			if data, _ := os.ReadFile("/proc/" + pid + "/cmdline"); bytes.Contains(data, []byte(cfg.DataDir)) {
				t.Errorf("%s (PID %s) still runs", name, pid)
			}
		}
	}
	if out, _ := exec.Command("ip", "netns", "list").Output(); strings.Contains(string(out), prefix) {
		t.Errorf("netns left: %s", out)
	}
	if out, _ := exec.Command("ip", "-o", "link").Output(); strings.Contains(string(out), prefix) {
		t.Errorf("links left in the root netns: %s", out)
	}
	if _, err := os.Stat(cfg.DataDir); !os.IsNotExist(err) {
		t.Errorf("data dir %s left: %v", cfg.DataDir, err)
	}
	var left []string
	for _, root := range []string{"/sys/fs/cgroup", "/sys/fs/bpf"} {
		_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return nil
			}
			if strings.Contains(d.Name(), prefix) {
				left = append(left, p)
				return filepath.SkipDir
			}
			if strings.Count(p, "/") > 6 {
				return filepath.SkipDir
			}
			return nil
		})
	}
	if len(left) > 0 {
		t.Errorf("cgroups or BPF pins left: %v", left)
	}
	if mounts, _ := os.ReadFile("/proc/self/mounts"); strings.Contains(string(mounts), cfg.DataDir) {
		t.Errorf("mounts under %s left", cfg.DataDir)
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		if data, _ := os.ReadFile(p); bytes.Contains(data, []byte(cfg.DataDir)) || bytes.Contains(data, []byte(prefix)) {
			t.Errorf("a process of the run is left: %s %q", p, data)
		}
	}
}

func recordedPIDs(dataDir string) map[string]string {
	files, _ := filepath.Glob(filepath.Join(dataDir, "pids", "*.pid"))
	out := map[string]string{}
	for _, f := range files {
		data, _ := os.ReadFile(f)
		out[filepath.Base(f)] = strings.TrimSpace(string(data))
	}
	return out
}
