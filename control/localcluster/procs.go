package localcluster

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// startProc runs bin with args (under `nsenter --net` when netns is set)
// in its own session, logs to logs/<name>.log and records its PID in
// pids/<name>.pid. It returns the PID.
func startProc(cfg *Config, name, netns, bin string, args ...string) (int, error) {
	for _, d := range []string{filepath.Dir(cfg.pidFile(name)), filepath.Dir(cfg.logFile(name))} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return 0, err
		}
	}
	logf, err := os.OpenFile(cfg.logFile(name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, err
	}
	defer logf.Close()
	if netns != "" {
		args = append([]string{"--net=/run/netns/" + netns, bin}, args...)
		bin = "nsenter"
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start %s: %w", name, err)
	}
	pid := cmd.Process.Pid
	_ = cmd.Process.Release()
	return pid, os.WriteFile(cfg.pidFile(name), []byte(strconv.Itoa(pid)+"\n"), 0o644)
}

// runningPID reads a PID file and reports whether that process is alive
// and is the one recorded (its command line names want).
func runningPID(path, want string) (int, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !strings.Contains(string(cmdline), want) {
		return 0, false
	}
	if !alive(pid) {
		return 0, false // a zombie: exited
	}
	return pid, true
}

// stopRecorded stops the process recorded as name (SIGTERM, then SIGKILL
// after grace) and removes its PID file.
func stopRecorded(cfg *Config, name, want string, grace time.Duration) {
	if pid, ok := runningPID(cfg.pidFile(name), want); ok {
		fmt.Fprintf(cfg.Out, "==> stopping %s (PID %d)\n", name, pid)
		stopPID(pid, grace)
	}
	_ = os.Remove(cfg.pidFile(name))
}

// stopPID sends SIGTERM, waits up to grace, then SIGKILL and waits.
func stopPID(pid int, grace time.Duration) {
	if err := syscall.Kill(pid, syscall.SIGTERM); errors.Is(err, syscall.ESRCH) {
		return
	}
	if waitGone(pid, grace) {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	waitGone(pid, 5*time.Second)
}

func waitGone(pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if !alive(pid) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// alive: the process exists and is not a zombie.
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(stat), ')')
	return !(i > 0 && len(stat) > i+2 && stat[i+2] == 'Z')
}
