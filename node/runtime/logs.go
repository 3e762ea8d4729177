package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Errors of Logs and Exec, for callers that map them to API answers.
var (
	ErrPodNotFound       = errors.New("runtime: pod not found on this node")
	ErrContainerNotFound = errors.New("runtime: container not found in the pod")
	ErrNoLog             = errors.New("runtime: no log")
	ErrNotRunning        = errors.New("runtime: container not running")
)

// LogOptions selects what Logs writes.
type LogOptions struct {
	Follow    bool  // keep writing new output until ctx ends, the container stops or the pod is removed
	TailLines int64 // only the last N lines; < 0 means all
	Previous  bool  // the log of the previous instance of a restarted container
}

// followPoll is how often a followed log is checked for new output.
const followPoll = 150 * time.Millisecond

// Logs writes a container's output to w: stdout and stderr in one file,
// each in the order written (the two streams are copied separately, so
// lines written to both within moments may swap). The current instance's log is written unless
// opts.Previous; a restarted container's previous instance keeps one log.
// When w has a Started() method it is called once the log is open.
func (r *Runtime) Logs(ctx context.Context, namespace, pod, container string, opts LogOptions, w io.Writer) error {
	wk, err := r.containerWorker(namespace, pod, container)
	if err != nil {
		return err
	}
	path := logPath(wk.sb, container)
	if opts.Previous {
		path = previousLogPath(wk.sb, container)
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		if opts.Previous {
			return fmt.Errorf("%w: container %q in pod %s/%s has not been restarted: there is no previous log", ErrNoLog, container, namespace, pod)
		}
		return fmt.Errorf("%w: container %q in pod %s/%s has not started yet: retry once it runs", ErrNoLog, container, namespace, pod)
	}
	if err != nil {
		return fmt.Errorf("open log of %s: %w", container, err)
	}
	defer f.Close()
	if _, err := seekTail(f, opts.TailLines); err != nil {
		return fmt.Errorf("log of %s: %w", container, err)
	}
	if s, ok := w.(interface{ Started() }); ok {
		s.Started() // a streaming caller answers now, before any output
	}
	if !opts.Follow || opts.Previous {
		_, err = io.Copy(w, f)
		return err
	}
	return r.follow(ctx, f, w, wk, container)
}

// follow copies f to w as it grows until ctx ends, the pod is removed,
// the container is no longer running, or it restarted (its log was
// replaced); what was written before the end is drained first.
func (r *Runtime) follow(ctx context.Context, f *os.File, w io.Writer, wk *podWorker, container string) error {
	for {
		if _, err := io.Copy(w, f); err != nil {
			return err
		}
		if r.followDone(f, wk, container) {
			_, err := io.Copy(w, f)
			return err
		}
		t := time.NewTimer(followPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

func (r *Runtime) followDone(f *os.File, wk *podWorker, container string) bool {
	r.mu.Lock()
	cur := r.workers[wk.pod.UID]
	r.mu.Unlock()
	if cur != wk {
		return true // the pod was removed
	}
	for _, cs := range wk.snapshot().ContainerStatuses {
		if cs.Name == container && cs.State.Running == nil {
			return true
		}
	}
	st, err1 := f.Stat()
	now, err2 := os.Stat(logPath(wk.sb, container))
	return err1 != nil || err2 != nil || !os.SameFile(st, now)
}

// seekTail positions f at the start of its last n lines (n < 0: at the
// start). A final line without a newline counts as a line.
func seekTail(f *os.File, n int64) (int64, error) {
	if n < 0 {
		return 0, nil
	}
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size := st.Size()
	buf := make([]byte, 32<<10)
	var lines int64
	for pos := size; pos > 0 && n > 0; {
		chunk := min(int64(len(buf)), pos)
		pos -= chunk
		if _, err := f.ReadAt(buf[:chunk], pos); err != nil {
			return 0, err
		}
		for i := chunk - 1; i >= 0; i-- {
			if buf[i] != '\n' || pos+i == size-1 {
				continue
			}
			if lines++; lines == n {
				return f.Seek(pos+i+1, io.SeekStart)
			}
		}
	}
	if n == 0 {
		return f.Seek(size, io.SeekStart)
	}
	return f.Seek(0, io.SeekStart)
}

// containerWorker finds the worker of a pod by namespace and name (a
// running one before one being stopped) and checks that it has container.
func (r *Runtime) containerWorker(namespace, pod, container string) (*podWorker, error) {
	r.mu.Lock()
	var found *podWorker
	for _, w := range r.workers {
		if w.pod.Namespace == namespace && w.pod.Name == pod && (found == nil || found.stopping()) {
			found = w
		}
	}
	r.mu.Unlock()
	if found == nil {
		return nil, fmt.Errorf("%w: pod %s/%s does not run on node %s", ErrPodNotFound, namespace, pod, r.cfg.NodeName)
	}
	var names []string
	for _, c := range found.pod.Spec.Containers {
		if c.Name == container {
			return found, nil
		}
		names = append(names, c.Name)
	}
	return nil, fmt.Errorf("%w: container %q is not valid for pod %s/%s: choose one of %v", ErrContainerNotFound, container, namespace, pod, names)
}
