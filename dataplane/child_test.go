package dataplane

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/weirnet/weir/dataplane/internal/testclient"
	"github.com/weirnet/weir/tests/testutil"
)

// child is a client process in a namespace and (optionally) a cgroup.
type child struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    *bufio.Scanner
	stderr *testutil.SyncBuffer
}

// startClient runs the test binary as a traffic client in ns, born inside
// cgroup (CLONE_INTO_CGROUP) unless cgroup is "".
func startClient(t *testing.T, ns *testutil.Netns, cgroup string) *child {
	t.Helper()
	cmd := exec.Command("ip", "netns", "exec", ns.Name, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "WEIR_DP_CHILD=client")
	if cgroup != "" {
		fd, err := syscall.Open(cgroup, syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
		if err != nil {
			t.Fatalf("open cgroup %s: %v", cgroup, err)
		}
		defer syscall.Close(fd)
		cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
	}
	return startChild(t, cmd)
}

func startChild(t *testing.T, cmd *exec.Cmd) *child {
	t.Helper()
	c := &child{cmd: cmd, stderr: &testutil.SyncBuffer{}}
	var err error
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = c.stderr
	c.out = bufio.NewScanner(stdout)
	c.out.Buffer(make([]byte, 1<<20), 16<<20)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	t.Cleanup(func() { c.stop(t) })
	return c
}

// do sends one request and waits for its result.
func (c *child) do(t *testing.T, req testclient.Request) testclient.Result {
	t.Helper()
	b, _ := json.Marshal(req)
	if _, err := c.stdin.Write(append(b, '\n')); err != nil {
		t.Fatalf("child %s: write request: %v; stderr: %s", req.Op, err, c.stderr.String())
	}
	if !c.out.Scan() {
		t.Fatalf("child %s: no result (%v); stderr: %s", req.Op, c.out.Err(), c.stderr.String())
	}
	var res testclient.Result
	if err := json.Unmarshal(c.out.Bytes(), &res); err != nil {
		t.Fatalf("child %s: bad result %q: %v", req.Op, c.out.Text(), err)
	}
	if res.Err != "" {
		t.Fatalf("child %s: %s", req.Op, res.Err)
	}
	return res
}

// stop closes stdin and waits; a child that does not exit is killed.
func (c *child) stop(t *testing.T) {
	c.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil && !c.cmd.ProcessState.Exited() {
			t.Logf("child: %v; stderr: %s", err, c.stderr.String())
		}
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
		t.Errorf("child did not exit; killed it; stderr: %s", c.stderr.String())
	}
}
