package runtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/cio"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// execer runs exec probes in a container's task, as the container's own
// process spec (user, env, cwd, capabilities) with the probe's command.
type execer struct {
	task    containerd.Task
	fifoDir string
	seq     atomic.Uint64

	mu   sync.Mutex
	proc *specs.Process // the container's, once read
}

// process is the container's process spec, read from containerd once.
func (e *execer) process(ctx context.Context) (specs.Process, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.proc == nil {
		spec, err := e.task.Spec(ctx)
		if err != nil {
			return specs.Process{}, fmt.Errorf("container spec: %w", err)
		}
		if spec.Process == nil {
			return specs.Process{}, errors.New("container spec has no process")
		}
		e.proc = spec.Process
	}
	return *e.proc, nil
}

// run runs cmd until it exits or ctx ends (then it is killed: a timeout is
// a failure). Exit code 0 is a success; the output is the message.
func (e *execer) run(ctx context.Context, cmd []string) (bool, string, error) {
	if len(cmd) == 0 {
		return false, "", fmt.Errorf("%w: exec probe without a command", errProbe)
	}
	proc, err := e.process(ctx)
	if err != nil {
		return false, fmt.Sprintf("exec %q: %v", cmd, err), nil
	}
	proc.Args, proc.Terminal = cmd, false
	var out capped
	id := fmt.Sprintf("probe-%d-%d", time.Now().UnixNano(), e.seq.Add(1))
	p, err := e.task.Exec(ctx, id, &proc, cio.NewCreator(cio.WithStreams(nil, &out, &out), cio.WithFIFODir(e.fifoDir)))
	if err != nil {
		return false, fmt.Sprintf("exec %q: %v", cmd, err), nil
	}
	// Clean-up must outlive ctx (that is what bounds the probe), bounded.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	defer p.Delete(cctx, containerd.WithProcessKill)
	exitCh, err := p.Wait(cctx)
	if err != nil {
		return false, fmt.Sprintf("exec %q: %v", cmd, err), nil
	}
	if err := p.Start(ctx); err != nil {
		return false, fmt.Sprintf("exec %q: start: %v", cmd, err), nil
	}
	select {
	case st := <-exitCh:
		p.Delete(cctx) // closes the output streams before out is read
		if code := st.ExitCode(); code != 0 {
			return false, withOutput(fmt.Sprintf("exec %q exited with %d", cmd, code), out.String()), nil
		}
		return true, out.String(), nil
	case <-ctx.Done():
	}
	p.Kill(cctx, syscall.SIGKILL)
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case <-exitCh:
	case <-t.C:
	}
	return false, withOutput(fmt.Sprintf("exec %q timed out", cmd), out.String()), nil
}

func withOutput(msg, out string) string {
	if out == "" {
		return msg
	}
	return msg + ": " + out
}

// capped is a goroutine-safe buffer that keeps the first maxProbeOutput
// bytes written to it.
type capped struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := maxProbeOutput - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (c *capped) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.TrimSpace(c.buf.String())
}
