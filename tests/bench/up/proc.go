package up

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// proc is a process `weir up` recorded.
type proc struct {
	Name, Component string
	PID             int
}

// recorded reads the PID files of the data dir.
func recorded(dataDir string) ([]proc, error) {
	files, err := filepath.Glob(filepath.Join(dataDir, "pids", "*.pid"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no PID files in %s/pids: %v", dataDir, err)
	}
	var out []proc
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
		out = append(out, proc{Name: name, Component: componentOf(name), PID: pid})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

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

// readMem reads VmRSS, RssAnon and RssFile (KiB) from /proc/PID/status.
func readMem(pid int) (Proc, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Proc{}, err
	}
	var p Proc
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, _ := strconv.ParseFloat(f[0], 64)
		switch k {
		case "VmRSS":
			p.RSSMiB = n / 1024
		case "RssAnon":
			p.AnonMiB = n / 1024
		case "RssFile":
			p.FileMiB = n / 1024
		}
	}
	if p.RSSMiB == 0 {
		return p, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
	}
	return p, nil
}

// cpuTimes reads utime+stime (seconds) of each process.
func cpuTimes(procs []proc) map[int]float64 {
	out := map[int]float64{}
	for _, p := range procs {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.PID))
		if err != nil {
			continue
		}
		s := string(data)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 12 {
			u, _ := strconv.ParseFloat(f[11], 64)
			st, _ := strconv.ParseFloat(f[12], 64)
			out[p.PID] = (u + st) / 100 // USER_HZ
		}
	}
	return out
}

func machine() string {
	data, _ := os.ReadFile("/proc/cpuinfo")
	cpus := strings.Count(string(data), "\nprocessor") + 1
	var uts [2]string
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		uts[0] = strings.TrimSpace(string(b))
	}
	return fmt.Sprintf("%d CPUs, Linux %s", cpus, uts[0])
}
