package runtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/cio"
	"github.com/containerd/containerd/namespaces"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TerminalSize is a terminal's size in characters.
type TerminalSize struct{ Width, Height uint16 }

// ExecOptions are the streams of an Exec. Stdin may be nil (the command
// reads EOF); its end closes the command's stdin. With TTY the command
// gets a terminal: its output (stdout and stderr) goes to Stdout, Stderr
// is unused, and sizes from Resize are applied as they come.
type ExecOptions struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	TTY            bool
	Resize         <-chan TerminalSize
}

// Exec runs cmd in a running container, as the container's process runs
// (user, environment, working directory, capabilities). It returns the
// command's exit code once the command exited and its output was
// written. When ctx ends first the command is killed. A command that
// cannot be started is an error, not an exit code. When Stdout has a
// Started() method it is called once the command runs (a streaming
// caller commits its answer then, before any output).
func (r *Runtime) Exec(ctx context.Context, namespace, pod, container string, cmd []string, o ExecOptions) (int, error) {
	if len(cmd) == 0 {
		return 0, errors.New("runtime: exec: no command given")
	}
	wk, err := r.containerWorker(namespace, pod, container)
	if err != nil {
		return 0, err
	}
	ctx = namespaces.WithNamespace(ctx, r.cfg.Namespace)
	task, spec, err := r.runningTask(ctx, containerID(wk.sb.id, container))
	if err != nil {
		return 0, fmt.Errorf("%w: container %q in pod %s/%s: %v", ErrNotRunning, container, namespace, pod, err)
	}
	pspec := *spec
	pspec.Args, pspec.Terminal = cmd, o.TTY
	execID, err := newExecID()
	if err != nil {
		return 0, err
	}
	stdout, stderr := o.Stdout, o.Stderr
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil || o.TTY {
		stderr = io.Discard
	}
	var in *stdinEOF
	var stdin io.Reader
	if o.Stdin != nil {
		in = &stdinEOF{r: o.Stdin, done: make(chan struct{})}
		stdin = in
	}
	opts := []cio.Opt{cio.WithStreams(stdin, stdout, stderr), cio.WithFIFODir(filepath.Join(r.cfg.DataDir, "exec-fifo"))}
	if o.TTY {
		opts = append(opts, cio.WithTerminal)
	}
	proc, err := task.Exec(ctx, execID, &pspec, cio.NewCreator(opts...))
	if err != nil {
		return 0, fmt.Errorf("exec in %s: %w", container, err)
	}
	defer proc.Delete(context.WithoutCancel(ctx), containerd.WithProcessKill)
	started := func() {}
	if s, ok := o.Stdout.(interface{ Started() }); ok {
		started = s.Started
	}
	return waitExec(ctx, proc, in, o.Resize, started)
}

// waitExec starts proc and waits for its exit and its output, applying
// terminal sizes from resize.
func waitExec(ctx context.Context, proc containerd.Process, in *stdinEOF, resize <-chan TerminalSize, started func()) (int, error) {
	exitCh, err := proc.Wait(context.WithoutCancel(ctx))
	if err != nil {
		return 0, fmt.Errorf("wait for exec: %w", err)
	}
	if err := proc.Start(ctx); err != nil {
		return 0, fmt.Errorf("start exec: %w", err)
	}
	started()
	var inDone <-chan struct{}
	if in != nil {
		inDone = in.done
	}
	for {
		select {
		case st := <-exitCh:
			drainIO(proc.IO())
			code, _, err := st.Result()
			return int(code), err
		case sz, ok := <-resize:
			if !ok {
				resize = nil
				continue
			}
			if sz.Width > 0 && sz.Height > 0 {
				proc.Resize(ctx, uint32(sz.Width), uint32(sz.Height)) // a process that just exited cannot be resized: not an error
			}
		case <-inDone:
			inDone = nil
			if err := proc.CloseIO(context.WithoutCancel(ctx), containerd.WithStdinCloser); err != nil {
				return 0, fmt.Errorf("close exec stdin: %w", err)
			}
		case <-ctx.Done():
			proc.Kill(context.WithoutCancel(ctx), syscall.SIGKILL)
			<-exitCh
			proc.IO().Cancel()
			return 0, ctx.Err()
		}
	}
}

// PortForward copies between stream and a TCP connection to port on the
// pod's loopback address, dialled inside the pod's network namespace (as
// the kubelet does), until either side ends.
func (r *Runtime) PortForward(ctx context.Context, namespace, pod string, port int32, stream io.ReadWriteCloser) error {
	if port <= 0 || port > 65535 {
		return fmt.Errorf("runtime: port-forward: invalid port %d", port)
	}
	wk, err := r.podWorker(namespace, pod)
	if err != nil {
		return err
	}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := dialIn(dctx, wk.sb.netnsPath(), "tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port))))
	cancel()
	if err != nil {
		return fmt.Errorf("port-forward to pod %s/%s port %d: %w", namespace, pod, port, err)
	}
	defer conn.Close()
	go func() {
		io.Copy(conn, stream) // the client's end: half-close towards the pod
		if tc, ok := conn.(*net.TCPConn); ok {
			tc.CloseWrite()
		}
	}()
	done := make(chan struct{})
	go func() {
		io.Copy(stream, conn) // ends when the pod closes, or conn is closed below
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
	conn.Close()
	stream.Close()
	<-done
	return nil
}

// drainIO waits for the command's output to be copied; a child that kept
// the output open after the command exited is cut off after a while.
func drainIO(pio cio.IO) {
	done := make(chan struct{})
	go func() { pio.Wait(); close(done) }()
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		pio.Cancel()
		<-done
	}
}

// runningTask loads a container's task, which must be running, and the
// process spec it was started with.
func (r *Runtime) runningTask(ctx context.Context, id string) (containerd.Task, *specs.Process, error) {
	ctr, err := r.client.LoadContainer(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	task, err := ctr.Task(ctx, nil)
	if err != nil {
		return nil, nil, err
	}
	st, err := task.Status(ctx)
	if err != nil {
		return nil, nil, err
	}
	if st.Status != containerd.Running {
		return nil, nil, fmt.Errorf("its task is %s", st.Status)
	}
	spec, err := ctr.Spec(ctx)
	if err != nil {
		return nil, nil, err
	}
	if spec.Process == nil {
		return nil, nil, errors.New("its spec has no process")
	}
	return task, spec.Process, nil
}

// newExecID is a unique exec process ID (containerd allows [A-Za-z0-9_.-]).
func newExecID() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "weir-exec-" + hex.EncodeToString(b), nil
}

// stdinEOF passes a reader through and closes done at its end, when the
// command's stdin must be closed.
type stdinEOF struct {
	r    io.Reader
	done chan struct{}
	eof  bool
}

func (s *stdinEOF) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && !s.eof {
		s.eof = true
		close(s.done)
	}
	return n, err
}
