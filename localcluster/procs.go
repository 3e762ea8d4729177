package localcluster

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Processes. Up starts every long-lived process with startProc, which
// records it in pids/NAME.pid (the PID, for people and tools) and
// pids/NAME.start (its start time) before it returns, and waits for it
// in the background so that Up learns its exit status the moment it
// exits. A recorded process is known by PID and start time (field 22 of
// /proc/PID/stat: set at fork, unchanged by exec), never by its command
// line: /proc/PID/cmdline reads empty while a process is between exec's
// point of no return and its new image's argument setup (nsenter exec'ing
// weir, for milliseconds under load), which made Up call a live member
// "exited" and Down skip it. A PID whose start time differs is another
// process and is never signalled.

// procID names one process: its PID and its start time in clock ticks
// after boot.
type procID struct {
	PID   int
	Start uint64
}

// procStat reads the state letter and the start time of pid.
func procStat(pid int) (byte, uint64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces
	// and ')'; the fields after the last ')' start with the state (3).
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 20 || len(f[0]) != 1 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: %d fields after the command name", pid, len(f))
	}
	start, err := strconv.ParseUint(f[19], 10, 64) // field 22
	if err != nil {
		return 0, 0, fmt.Errorf("/proc/%d/stat start time: %w", pid, err)
	}
	return f[0][0], start, nil
}

// running reports whether p still runs: its PID exists with the recorded
// start time (not a recycled PID) and has not exited (a zombie has).
func (p procID) running() bool {
	st, start, err := procStat(p.PID)
	return err == nil && start == p.Start && st != 'Z' && st != 'X'
}

// child is a process this Up started. Up waits for it, so its exit
// status is known as soon as it exits (and it never lingers as a zombie).
type child struct {
	name, log string
	id        procID
	started   time.Time
	finished  time.Time     // set before done is closed
	done      chan struct{} // closed once the process exited
	err       error         // cmd.Wait's result, set before done is closed
}

// exited is nil while c runs, else an error saying how it exited (exit
// status or signal, after how long) with the tail of its log.
func (c *child) exited() error {
	select {
	case <-c.done:
	default:
		return nil
	}
	how := "exit status 0"
	var ee *exec.ExitError
	if errors.As(c.err, &ee) {
		how = ee.ProcessState.String()
	} else if c.err != nil {
		how = c.err.Error()
	}
	return fmt.Errorf("%s (PID %d) exited (%s) %.1fs after it started; the end of %s:\n%s",
		c.name, c.id.PID, how, c.finished.Sub(c.started).Seconds(), c.log, logTail(c.log, 15))
}

// startProc runs bin with args (under `nsenter --net` when netns is set)
// in its own session, its stdout and stderr appended to logs/NAME.log,
// and records it (pids/NAME.pid and pids/NAME.start) before returning.
// When it exits, a line with its exit status is appended to its log.
func startProc(cfg *Config, name, netns, bin string, args ...string) (*child, error) {
	for _, d := range []string{filepath.Dir(cfg.pidFile(name)), filepath.Dir(cfg.logFile(name))} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	logf, err := os.OpenFile(cfg.logFile(name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
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
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, log: cfg.logFile(name), started: time.Now(), done: make(chan struct{})}
	c.id.PID = cmd.Process.Pid
	// Not waited for yet, the child keeps its /proc entry (as a zombie if
	// it already exited): its start time can be read without a race.
	_, c.id.Start, err = procStat(c.id.PID)
	if err == nil {
		err = writeRecord(cfg, name, c.id)
	}
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("record %s (PID %d): %w", name, c.id.PID, err)
	}
	go func() {
		c.err = cmd.Wait()
		c.finished = time.Now()
		how := "exit status 0"
		if c.err != nil {
			how = c.err.Error()
		}
		if f, err := os.OpenFile(c.log, os.O_WRONLY|os.O_APPEND, 0); err == nil {
			fmt.Fprintf(f, "weir up: %s (PID %d) exited: %s\n", name, c.id.PID, how)
			f.Close()
		}
		close(c.done)
	}()
	return c, nil
}

// writeRecord writes pids/NAME.start, then pids/NAME.pid.
func writeRecord(cfg *Config, name string, id procID) error {
	if err := os.WriteFile(startFile(cfg, name), []byte(strconv.FormatUint(id.Start, 10)+"\n"), 0o644); err != nil {
		return err
	}
	return os.WriteFile(cfg.pidFile(name), []byte(strconv.Itoa(id.PID)+"\n"), 0o644)
}

func startFile(cfg *Config, name string) string {
	return strings.TrimSuffix(cfg.pidFile(name), ".pid") + ".start"
}

// recorded reads the record of process name. legacy is set when there is
// no start time (a PID file written by a weir before start times).
func recorded(cfg *Config, name string) (id procID, legacy bool, err error) {
	data, err := os.ReadFile(cfg.pidFile(name))
	if err != nil {
		return id, false, err
	}
	if id.PID, err = strconv.Atoi(strings.TrimSpace(string(data))); err != nil || id.PID <= 0 {
		return id, false, fmt.Errorf("%s: bad PID %q", cfg.pidFile(name), data)
	}
	data, err = os.ReadFile(startFile(cfg, name))
	if errors.Is(err, os.ErrNotExist) {
		return id, true, nil
	}
	if err != nil {
		return id, false, err
	}
	if id.Start, err = strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64); err != nil {
		return id, false, fmt.Errorf("%s: bad start time %q", startFile(cfg, name), data)
	}
	return id, false, nil
}

// runningRecorded returns the recorded process name if it still runs.
// A legacy record (no start time) takes the process whose command line
// names want, as weir did before start times.
func runningRecorded(cfg *Config, name, want string) (procID, bool) {
	id, legacy, err := recorded(cfg, name)
	if err != nil {
		return procID{}, false
	}
	if legacy {
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", id.PID))
		st, start, serr := procStat(id.PID)
		if err != nil || serr != nil || !strings.Contains(string(cmdline), want) || st == 'Z' {
			return procID{}, false
		}
		id.Start = start
	}
	return id, id.running()
}

// stopRecorded stops the recorded process name (SIGTERM, then SIGKILL
// after grace) and removes its record. It fails when the process still
// runs after SIGKILL.
func stopRecorded(cfg *Config, name, want string, grace time.Duration) error {
	var err error
	if id, ok := runningRecorded(cfg, name, want); ok {
		fmt.Fprintf(cfg.Out, "==> stopping %s (PID %d)\n", name, id.PID)
		if err = stopProc(id, grace); err != nil {
			err = fmt.Errorf("stop %s: %w", name, err)
		}
	}
	if err == nil {
		_ = os.Remove(cfg.pidFile(name))
		_ = os.Remove(startFile(cfg, name))
	}
	return err
}

// stopProc sends SIGTERM to p, waits up to grace, then sends SIGKILL and
// waits up to 5 s. It signals through a pidfd opened before the start
// time is checked, so a PID recycled at any moment is never signalled.
func stopProc(p procID, grace time.Duration) error {
	fd, err := unix.PidfdOpen(p.PID, 0)
	if errors.Is(err, unix.ESRCH) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("pidfd_open %d: %w", p.PID, err)
	}
	defer unix.Close(fd)
	if !p.running() {
		return nil // exited, or the PID is another process's now
	}
	for _, s := range []struct {
		sig  unix.Signal
		wait time.Duration
	}{{unix.SIGTERM, grace}, {unix.SIGKILL, 5 * time.Second}} {
		if err := unix.PidfdSendSignal(fd, s.sig, nil, 0); errors.Is(err, unix.ESRCH) {
			return nil
		} else if err != nil {
			return fmt.Errorf("signal PID %d: %w", p.PID, err)
		}
		if pidfdExited(fd, s.wait) {
			return nil
		}
	}
	return fmt.Errorf("PID %d still runs after SIGKILL", p.PID)
}

// pidfdExited waits up to d for the process of pidfd to exit.
func pidfdExited(fd int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		left := time.Until(deadline)
		if left < 0 {
			left = 0
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, int(left.Milliseconds()))
		if err == nil && n > 0 {
			return true
		}
		if (err != nil && !errors.Is(err, unix.EINTR)) || left == 0 {
			return false
		}
	}
}

// logTail is the last n lines of a log file.
func logTail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return "(empty)"
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
