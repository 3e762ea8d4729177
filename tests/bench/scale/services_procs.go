package scale

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/weirnet/weir/localcluster"
	"github.com/weirnet/weir/tests/benchreport"
)

// proc is a process weir up recorded in DATA-DIR/pids.
type proc = localcluster.Process

func recorded(dataDir string) ([]proc, error) { return localcluster.Recorded(dataDir) }

// cpuSeconds is the CPU time (user + system) of pid in seconds.
func cpuSeconds(pid int) (float64, error) {
	d, err := benchreport.ProcCPU(pid)
	return d.Seconds(), err
}

// rssMiB is VmRSS of pid.
func rssMiB(pid int) (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				n, err := strconv.ParseFloat(f[0], 64)
				return n / 1024, err
			}
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// cpuOf reads the CPU seconds of every proc, by PID.
func cpuOf(procs []proc) (map[int]float64, error) {
	out := map[int]float64{}
	for _, p := range procs {
		s, err := cpuSeconds(p.PID)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.Name, err)
		}
		out[p.PID] = s
	}
	return out, nil
}

func machine() string {
	data, _ := os.ReadFile("/proc/cpuinfo")
	cpus := strings.Count(string(data), "\nprocessor") + 1
	rel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return fmt.Sprintf("%d CPUs, Linux %s", cpus, strings.TrimSpace(string(rel)))
}
