package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/weirnet/weir/localcluster"
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
	for name, pid := range pids {
		if _, err := os.Stat("/proc/" + pid); err == nil {
			if data, _ := os.ReadFile("/proc/" + pid + "/cmdline"); bytes.Contains(data, []byte(cfg.DataDir)) {
				t.Errorf("%s (PID %s) still runs", name, pid)
			}
		}
	}
	if left := localcluster.Leftovers(cfg, false); len(left) > 0 {
		t.Errorf("left behind: %v", left)
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
