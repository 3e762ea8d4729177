package localcluster

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Down stops the control member that Up started (by its recorded PID) and,
// unless keepData, removes the data dir.
func Down(cfg Config, keepData bool) error {
	if err := cfg.defaults(); err != nil {
		return err
	}
	if pid, ok := runningPID(cfg.pidFile()); ok {
		fmt.Fprintf(cfg.Out, "==> stopping control member control-1 (PID %d)\n", pid)
		if err := stopPID(pid, 15*time.Second); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(cfg.Out, "==> no running control member")
	}
	_ = os.Remove(cfg.pidFile())
	if keepData {
		fmt.Fprintf(cfg.Out, "==> kept data in %s\n", cfg.DataDir)
		return nil
	}
	fmt.Fprintf(cfg.Out, "==> removing %s\n", cfg.DataDir)
	return os.RemoveAll(cfg.DataDir)
}

// runningPID reads a PID file and reports whether that process is a live
// weir process.
func runningPID(path string) (int, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !strings.Contains(string(cmdline), "weir") {
		return 0, false
	}
	return pid, true
}

// stopPID sends SIGTERM, waits, then SIGKILL.
func stopPID(pid int, grace time.Duration) error {
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stop PID %d: %w", pid, err)
	}
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) {
		if syscall.Kill(pid, 0) != nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	return nil
}
