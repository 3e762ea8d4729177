package runtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"syscall"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/cio"
	"github.com/containerd/containerd/namespaces"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Exec runs cmd in a running container, as the container's process runs
// (user, environment, working directory, capabilities), without a
// terminal. stdin may be nil (the command reads EOF); its end closes the
// command's stdin. It returns the command's exit code once the command
// exited and its output was written. When ctx ends first the command is
// killed. A command that cannot be started is an error, not an exit code.
// When stdout has a Started() method it is called once the command runs
// (a streaming caller commits its answer then, before any output).
func (r *Runtime) Exec(ctx context.Context, namespace, pod, container string, cmd []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
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
	pspec.Args, pspec.Terminal = cmd, false
	execID, err := newExecID()
	if err != nil {
		return 0, err
	}
	var in *stdinEOF
	streams := cio.WithStreams(nil, stdout, stderr)
	if stdin != nil {
		in = &stdinEOF{r: stdin, done: make(chan struct{})}
		streams = cio.WithStreams(in, stdout, stderr)
	}
	fifos := cio.WithFIFODir(filepath.Join(r.cfg.DataDir, "exec-fifo"))
	proc, err := task.Exec(ctx, execID, &pspec, cio.NewCreator(streams, fifos))
	if err != nil {
		return 0, fmt.Errorf("exec in %s: %w", container, err)
	}
	defer proc.Delete(context.WithoutCancel(ctx), containerd.WithProcessKill)
	started := func() {}
	if s, ok := stdout.(interface{ Started() }); ok {
		started = s.Started
	}
	return waitExec(ctx, proc, in, started)
}

// waitExec starts proc and waits for its exit and its output.
func waitExec(ctx context.Context, proc containerd.Process, in *stdinEOF, started func()) (int, error) {
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
