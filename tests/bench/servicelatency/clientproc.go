package servicelatency

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// clientProc is a client child: argv re-executed under `ip netns exec`,
// born in cgroup (CLONE_INTO_CGROUP), dying with the benchmark (Pdeathsig).
type clientProc struct {
	mode   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    *bufio.Scanner
	stderr *lockedBuffer
}

func startClient(mode, ns, cgroup string, argv []string) (*clientProc, error) {
	fd, err := syscall.Open(cgroup, syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		return nil, fmt.Errorf("open cgroup %s: %w", cgroup, err)
	}
	defer syscall.Close(fd)
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns}, argv...)...)
	cmd.Env = append(os.Environ(), ChildEnv+"=client")
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd, Pdeathsig: syscall.SIGKILL}
	c := &clientProc{mode: mode, cmd: cmd, stderr: &lockedBuffer{}}
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = c.stderr
	c.out = bufio.NewScanner(stdout)
	c.out.Buffer(make([]byte, 1<<20), 64<<20)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s client: %w", mode, err)
	}
	return c, nil
}

// do runs one batch and returns its reply.
func (c *clientProc) do(req request) (reply, error) {
	var rep reply
	b, _ := json.Marshal(req)
	if _, err := c.stdin.Write(append(b, '\n')); err != nil {
		return rep, fmt.Errorf("%s client: %w; stderr: %s", c.mode, err, c.stderr.String())
	}
	if !c.out.Scan() {
		return rep, fmt.Errorf("%s client: no reply (%v); stderr: %s", c.mode, c.out.Err(), c.stderr.String())
	}
	if err := json.Unmarshal(c.out.Bytes(), &rep); err != nil {
		return rep, fmt.Errorf("%s client: bad reply: %w", c.mode, err)
	}
	return rep, nil
}

// close ends the child: stdin closed, then killed if it lingers.
func (c *clientProc) close() {
	c.stdin.Close()
	done := make(chan struct{})
	go func() { _ = c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 64<<10 {
		return len(p), nil
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
