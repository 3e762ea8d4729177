package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/containerd/containerd/namespaces"
)

// Errors of Logs and Exec, for callers that map them to API answers.
var (
	ErrPodNotFound       = errors.New("runtime: pod not found on this node")
	ErrContainerNotFound = errors.New("runtime: container not found in the pod")
	ErrNoLog             = errors.New("runtime: no log")
	ErrNotRunning        = errors.New("runtime: container not running")
)

// LogOptions selects what Logs writes (the kubelet's PodLogOptions).
type LogOptions struct {
	Follow     bool      // keep writing new output until ctx ends, the container stops or the pod is removed
	TailLines  int64     // only the last N lines; < 0 means all
	Previous   bool      // the log of the previous instance of a restarted container
	Timestamps bool      // prefix each line with the RFC3339Nano time it was written
	Since      time.Time // only lines written at or after this time (zero: all)
	LimitBytes int64     // stop after this many bytes; <= 0 means no limit
}

// followPoll is how often a followed log is checked for new output.
const followPoll = 150 * time.Millisecond

// Logs writes a container's output to w: stdout and stderr lines in the
// order the agent read them (the two streams are copied separately, so
// lines written to both within moments may swap); see crilog.go for how
// they are recorded. The current instance's log is written unless
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
			return fmt.Errorf("%w: previous terminated container %q in pod %q not found", ErrNoLog, container, pod)
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
	lw := &logWriter{w: w, timestamps: opts.Timestamps, since: opts.Since, remaining: -1}
	if opts.LimitBytes > 0 {
		lw.remaining = opts.LimitBytes
	}
	follow := opts.Follow && !opts.Previous
	err = readLog(ctx, f, follow, func() bool { return r.followDone(f, wk, container) }, lw.emit)
	if errors.Is(err, errLimit) {
		return nil
	}
	return err
}

// Attach writes a running container's output from now on to stdout and
// stderr (by the stream it came on) until ctx ends or the container
// stops. The container's stdin is not kept: there is none to attach.
func (r *Runtime) Attach(ctx context.Context, namespace, pod, container string, stdout, stderr io.Writer) error {
	wk, err := r.containerWorker(namespace, pod, container)
	if err != nil {
		return err
	}
	f, err := os.Open(logPath(wk.sb, container))
	if err != nil {
		return fmt.Errorf("%w: container %q in pod %s/%s has no output yet: %v", ErrNotRunning, container, namespace, pod, err)
	}
	defer f.Close()
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		return err
	}
	return readLog(ctx, f, true, func() bool { return r.followDone(f, wk, container) }, func(e logEntry) error {
		w := stdout
		if e.stream == "stderr" {
			w = stderr
		}
		b := e.content
		if !e.partial {
			b = append(b, '\n')
		}
		_, err := w.Write(b)
		return err
	})
}

// CheckPod says whether the pod runs on this node (ErrPodNotFound).
func (r *Runtime) CheckPod(namespace, pod string) error {
	_, err := r.podWorker(namespace, pod)
	return err
}

// CheckContainer says whether the pod's container runs on this node
// (ErrPodNotFound, ErrContainerNotFound, ErrNotRunning).
func (r *Runtime) CheckContainer(ctx context.Context, namespace, pod, container string) error {
	wk, err := r.containerWorker(namespace, pod, container)
	if err != nil {
		return err
	}
	if _, _, err := r.runningTask(namespaces.WithNamespace(ctx, r.cfg.Namespace), containerID(wk.sb.id, container)); err != nil {
		return fmt.Errorf("%w: container %q in pod %s/%s: %v", ErrNotRunning, container, namespace, pod, err)
	}
	return nil
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
	found, err := r.podWorker(namespace, pod)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, c := range slices.Concat(found.pod.Spec.Containers, found.pod.Spec.InitContainers) {
		if c.Name == container {
			return found, nil
		}
		names = append(names, c.Name)
	}
	return nil, fmt.Errorf("%w: container %q is not valid for pod %s/%s: choose one of %v", ErrContainerNotFound, container, namespace, pod, names)
}

// podWorker finds the worker of a pod by namespace and name (a running
// one before one being stopped).
func (r *Runtime) podWorker(namespace, pod string) (*podWorker, error) {
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
	return found, nil
}
