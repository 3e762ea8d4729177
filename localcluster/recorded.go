package localcluster

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Process is one process a cluster's data dir records (pids/NAME.pid).
type Process struct {
	Name      string
	Component string // member (control-N), agent, containerd or api-proxy
	PID       int
}

// Recorded reads the processes recorded in dataDir, by name. It does not
// check that they still run (tools that signal them use the start-time
// record too, as Down does).
func Recorded(dataDir string) ([]Process, error) {
	files, err := filepath.Glob(filepath.Join(dataDir, "pids", "*.pid"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no PID files in %s/pids: %v", dataDir, err)
	}
	var out []Process
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		name := strings.TrimSuffix(filepath.Base(f), ".pid")
		out = append(out, Process{Name: name, Component: componentOf(name), PID: pid})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// componentOf is the kind of process a record's name stands for.
func componentOf(name string) string {
	switch {
	case strings.HasPrefix(name, "control-"):
		return "member"
	case name == "containerd", name == "api-proxy":
		return name
	default:
		return "agent"
	}
}
