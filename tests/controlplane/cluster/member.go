package cluster

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Member is one `weir server` process (or its place while it is down).
type Member struct {
	Name     string
	DataDir  string
	LogPath  string
	APIAddr  string
	PeerAddr string
	Client   *Client // talks to this member's API

	bin  string
	args []string
	logf func(string, ...any)

	mu     sync.Mutex
	proc   *process // nil while down
	starts int
}

type process struct {
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{}
}

// Args is the member's command line (without the binary).
func (m *Member) Args() []string { return append([]string(nil), m.args...) }

// AddArgs appends to the member's command line before it starts (a later
// flag overrides an earlier one).
func (m *Member) AddArgs(args ...string) { m.args = append(m.args, args...) }

// start launches the process, appending its output to LogPath.
func (m *Member) start() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.proc != nil {
		return fmt.Errorf("start %s: already running (pid %d)", m.Name, m.proc.cmd.Process.Pid)
	}
	lf, err := os.OpenFile(m.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open log of %s: %w", m.Name, err)
	}
	fmt.Fprintf(lf, "=== start %d: %s %s\n", m.starts+1, m.bin, strings.Join(m.args, " "))
	cmd := exec.Command(m.bin, m.args...)
	cmd.Stdout, cmd.Stderr = lf, lf
	// The member dies with its parent (test binary or benchmark), even when
	// the parent is killed before it can clean up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		lf.Close()
		return fmt.Errorf("start %s: %w", m.Name, err)
	}
	p := &process{cmd: cmd, log: lf, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		lf.Close()
		close(p.done)
	}()
	m.proc = p
	m.starts++
	m.logf("started %s (pid %d, api %s, peer %s)", m.Name, cmd.Process.Pid, m.APIAddr, m.PeerAddr)
	return nil
}

// Running reports whether the member's process runs (possibly paused).
func (m *Member) Running() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.proc == nil {
		return false
	}
	select {
	case <-m.proc.done:
		return false
	default:
		return true
	}
}

// PID is the running process's id (0 when down).
func (m *Member) PID() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.proc == nil {
		return 0
	}
	return m.proc.cmd.Process.Pid
}

// Kill sends SIGKILL (kill -9) and waits until the process is gone. A
// member that is down is left alone.
func (m *Member) Kill() {
	m.mu.Lock()
	p := m.proc
	m.proc = nil
	m.mu.Unlock()
	if p == nil {
		return
	}
	_ = syscall.Kill(p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
	m.logf("killed %s (pid %d)", m.Name, p.cmd.Process.Pid)
}

// Stop sends SIGTERM (graceful shutdown: leadership handed over) and waits
// up to grace before killing.
func (m *Member) Stop(grace time.Duration) {
	m.mu.Lock()
	p := m.proc
	m.mu.Unlock()
	if p == nil {
		return
	}
	_ = syscall.Kill(p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
		m.mu.Lock()
		m.proc = nil
		m.mu.Unlock()
		m.logf("stopped %s", m.Name)
	case <-time.After(grace):
		m.Kill()
	}
}

// Restart starts a member that is down again, on the same ports and data
// dir (the --bootstrap/--join flags are ignored by a member with state).
func (m *Member) Restart() error {
	if m.Running() {
		return fmt.Errorf("restart %s: still running", m.Name)
	}
	m.mu.Lock()
	m.proc = nil
	m.mu.Unlock()
	return m.start()
}

// Pause stops the process with SIGSTOP (it keeps its sockets but answers
// nothing, like a member behind a partition); Resume continues it.
func (m *Member) Pause() error { return m.signal(syscall.SIGSTOP) }

// Resume sends SIGCONT.
func (m *Member) Resume() error { return m.signal(syscall.SIGCONT) }

func (m *Member) signal(sig syscall.Signal) error {
	pid := m.PID()
	if pid == 0 {
		return fmt.Errorf("signal %s: %w", m.Name, errNotRunning)
	}
	if err := syscall.Kill(pid, sig); err != nil {
		return fmt.Errorf("signal %v to %s (pid %d): %w", sig, m.Name, pid, err)
	}
	m.logf("sent %v to %s (pid %d)", sig, m.Name, pid)
	return nil
}

// RSSKiB is the member's resident set size (VmRSS) in KiB.
func (m *Member) RSSKiB() (int64, error) {
	pid := m.PID()
	if pid == 0 {
		return 0, errNotRunning
	}
	return ProcessRSSKiB(pid)
}

// ProcessRSSKiB reads VmRSS of a process from /proc/PID/status.
func ProcessRSSKiB(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read RSS of pid %d: %w", pid, err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kib int64
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d kB", &kib); err != nil {
				return 0, fmt.Errorf("parse VmRSS %q: %w", line, err)
			}
			return kib, nil
		}
	}
	return 0, fmt.Errorf("pid %d: no VmRSS in /proc status", pid)
}

// Ready checks that this member sees `voters` voters and a leader and
// serves the default namespace.
func (m *Member) Ready(ctx context.Context, voters int) error {
	qctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	ms, err := m.Client.Members(qctx)
	if err != nil {
		return fmt.Errorf("%s: %w", m.Name, err)
	}
	n := 0
	for _, x := range ms {
		if x.Voter {
			n++
		}
	}
	if n != voters || leaderName(ms) == "" {
		return fmt.Errorf("%s: %d voters (want %d), leader %q", m.Name, n, voters, leaderName(ms))
	}
	r, err := m.Client.Do(qctx, "GET", "/api/v1/namespaces/default", nil)
	if err != nil {
		return fmt.Errorf("%s: %w", m.Name, err)
	}
	if r.Code != 200 {
		return fmt.Errorf("%s: GET namespace default: %d %s", m.Name, r.Code, bytes.TrimSpace(r.Body))
	}
	return nil
}

func leaderName(ms []MemberInfo) string {
	for _, x := range ms {
		if x.Leader {
			return x.Name
		}
	}
	return ""
}

func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
