package api

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/weirnet/weir/tests/benchreport"
)

// procCPU is the CPU time (user + system) process pid has used.
func procCPU(pid int) (time.Duration, error) { return benchreport.ProcCPU(pid) }

// procWrites is how many write system calls (write, writev, pwrite...)
// process pid has made: /proc/PID/io's syscw.
func procWrites(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "syscw:"); ok {
			return strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/io has no syscw", pid)
}

// selfCPU is the CPU time (user + system) this process has used: the
// benchmark's clients.
func selfCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// loadAverage is the machine's 1-minute load average ("" when unknown).
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	if f := strings.Fields(string(data)); len(f) > 0 {
		return f[0]
	}
	return ""
}
