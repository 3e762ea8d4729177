package up

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/weirnet/weir/localcluster"
	"github.com/weirnet/weir/tests/benchreport"
)

// proc is a process `weir up` recorded.
type proc = localcluster.Process

// recorded reads the PID files of the data dir.
func recorded(dataDir string) ([]proc, error) { return localcluster.Recorded(dataDir) }

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
		if d, err := benchreport.ProcCPU(p.PID); err == nil {
			out[p.PID] = d.Seconds()
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
