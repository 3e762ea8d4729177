package runtime

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	tasks "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/containerd/cio"
)

// Container logs are written by the agent in the CRI log format, as the
// kubelet's runtimes write them: one entry per line,
//
//	2016-10-06T00:17:09.669794202Z stdout F a whole line
//	2016-10-06T00:17:09.669794202Z stderr P the first 16 KiB of a longer one
//
// (F: the line ends here; P: it goes on in the next entry of the same
// stream). The agent holds the container's stdout and stderr FIFOs and
// stamps each line as it reads it. The containerd shim keeps its own read
// end open, so a container's output is not lost while the agent is away;
// it blocks once the pipe is full until the next agent re-attaches.

// maxLogLine is the longest entry; a longer line is split into P entries.
const maxLogLine = 16 << 10

// criLog writes a container instance's two streams to one log file.
type criLog struct {
	mu  sync.Mutex
	f   *os.File
	now func() time.Time
}

// stream returns the writer of one stream ("stdout" or "stderr").
func (l *criLog) stream(name string) *criStream { return &criStream{log: l, name: name} }

func (l *criLog) entry(stream string, tag byte, line []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	ts := l.now().UTC().Format(time.RFC3339Nano)
	buf := make([]byte, 0, len(ts)+len(stream)+len(line)+5)
	buf = append(append(append(append(append(append(buf, ts...), ' '), stream...), ' ', tag, ' '), line...), '\n')
	_, err := l.f.Write(buf)
	return err
}

// criStream buffers one stream's output into lines.
type criStream struct {
	log  *criLog
	name string
	buf  []byte
}

func (s *criStream) Write(p []byte) (int, error) {
	s.buf = append(s.buf, p...)
	for {
		i := bytes.IndexByte(s.buf, '\n')
		switch {
		case i >= 0 && i <= maxLogLine:
			if err := s.log.entry(s.name, 'F', s.buf[:i]); err != nil {
				return 0, err
			}
			s.buf = s.buf[i+1:]
		case len(s.buf) > maxLogLine:
			if err := s.log.entry(s.name, 'P', s.buf[:maxLogLine]); err != nil {
				return 0, err
			}
			s.buf = s.buf[maxLogLine:]
		default:
			s.buf = append([]byte(nil), s.buf...) // do not pin a large earlier buffer
			return len(p), nil
		}
	}
}

// flush writes an unfinished last line as a partial entry.
func (s *criStream) flush() {
	if len(s.buf) > 0 {
		s.log.entry(s.name, 'P', s.buf)
		s.buf = nil
	}
}

// logIO is the agent's end of a container task's stdio.
type logIO struct {
	io       cio.IO
	detached bool // the agent stops reading; the FIFOs stay for the next one
}

// logStreams opens (appending) a container's log and its two writers.
func (r *Runtime) logStreams(s *sandbox, container string) (*criLog, *criStream, *criStream, error) {
	f, err := os.OpenFile(logPath(s, container), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("open log of %s: %w", container, err)
	}
	l := &criLog{f: f, now: time.Now}
	return l, l.stream("stdout"), l.stream("stderr"), nil
}

// logCreator: the cio.Creator of a new container task logging to its file.
func (r *Runtime) logCreator(s *sandbox, container string) cio.Creator {
	return func(id string) (cio.IO, error) {
		l, out, errw, err := r.logStreams(s, container)
		if err != nil {
			return nil, err
		}
		pio, err := cio.NewCreator(cio.WithStreams(nil, out, errw), cio.WithFIFODir(filepath.Join(r.cfg.DataDir, "log-fifo")))(id)
		if err != nil {
			l.f.Close()
			return nil, err
		}
		r.trackLog(pio, l, out, errw)
		return pio, nil
	}
}

// logAttach: the cio.Attach of a running container task (adopted from an
// earlier agent); a task whose stdio is no FIFO (a file) is not attached.
func (r *Runtime) logAttach(s *sandbox, container string) cio.Attach {
	return func(fs *cio.FIFOSet) (cio.IO, error) {
		if fs == nil || !strings.HasPrefix(fs.Stdout, "/") || !strings.HasPrefix(fs.Stderr, "/") {
			return nil, errors.New("the task's output is not a FIFO")
		}
		l, out, errw, err := r.logStreams(s, container)
		if err != nil {
			return nil, err
		}
		pio, err := cio.NewAttach(cio.WithStreams(nil, out, errw))(fs)
		if err != nil {
			l.f.Close()
			return nil, err
		}
		r.trackLog(pio, l, out, errw)
		return pio, nil
	}
}

// trackLog closes the log once the container's output ended (its FIFOs
// are removed then), and lets Close detach from it.
func (r *Runtime) trackLog(pio cio.IO, l *criLog, out, errw *criStream) {
	li := &logIO{io: pio}
	r.logMu.Lock()
	r.logs[li] = struct{}{}
	r.logMu.Unlock()
	r.logWG.Add(1)
	go func() {
		defer r.logWG.Done()
		pio.Wait()
		out.flush()
		errw.flush()
		l.f.Close()
		r.logMu.Lock()
		delete(r.logs, li)
		detached := li.detached
		r.logMu.Unlock()
		if !detached {
			pio.Close() // removes the FIFOs
		}
	}()
}

// detachLogs stops reading every container's output, keeping the FIFOs
// for the next agent, and waits for the copies to end.
func (r *Runtime) detachLogs() {
	r.logMu.Lock()
	for li := range r.logs {
		li.detached = true
		li.io.Cancel()
	}
	r.logMu.Unlock()
	r.logWG.Wait()
}

// logEntry is one parsed line of a CRI log.
type logEntry struct {
	ts      time.Time // zero for a line not in CRI format
	stream  string
	partial bool
	content []byte
}

// parseLogLine parses one line (without its newline). A line that is not
// in CRI format is taken whole as stdout with no time.
func parseLogLine(line []byte) logEntry {
	raw := logEntry{stream: "stdout", content: line}
	i := bytes.IndexByte(line, ' ')
	if i < 0 {
		return raw
	}
	ts, err := time.Parse(time.RFC3339Nano, string(line[:i]))
	if err != nil {
		return raw
	}
	rest := line[i+1:]
	j := bytes.IndexByte(rest, ' ')
	if j < 0 {
		return raw
	}
	stream := string(rest[:j])
	rest = rest[j+1:]
	if stream != "stdout" && stream != "stderr" || len(rest) < 1 {
		return raw
	}
	e := logEntry{ts: ts, stream: stream, partial: rest[0] == 'P'}
	if len(rest) > 1 {
		e.content = rest[2:]
	}
	return e
}

// readLog reads f's entries from its current offset, calling emit for
// each whole line. With follow it waits for more until done says so or
// ctx ends (a final line still being written is then taken as it is).
func readLog(ctx context.Context, f *os.File, follow bool, done func() bool, emit func(logEntry) error) error {
	br := bufio.NewReaderSize(f, 64<<10)
	var pending []byte
	for {
		line, err := br.ReadBytes('\n')
		if err == nil {
			if len(pending) > 0 {
				line, pending = append(pending, line...), nil
			}
			if err := emit(parseLogLine(line[:len(line)-1])); err != nil {
				return err
			}
			continue
		}
		if !errors.Is(err, io.EOF) {
			return err
		}
		pending = append(pending, line...)
		if follow && !done() {
			t := time.NewTimer(followPoll)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
			continue
		}
		if follow { // the end: drain what was written before it
			follow = false
			continue
		}
		if len(pending) > 0 {
			return emit(parseLogLine(pending))
		}
		return nil
	}
}

// errLimit ends a log read at LimitBytes.
var errLimit = errors.New("log limit reached")

// logWriter formats entries for a reader of the log, as the kubelet:
// optional RFC3339Nano time prefix, a newline after whole lines, entries
// before Since skipped, output cut at LimitBytes.
type logWriter struct {
	w          io.Writer
	timestamps bool
	since      time.Time
	remaining  int64 // < 0: no limit
}

func (lw *logWriter) emit(e logEntry) error {
	if !lw.since.IsZero() && !e.ts.IsZero() && e.ts.Before(lw.since) {
		return nil
	}
	var b []byte
	if lw.timestamps && !e.ts.IsZero() {
		b = append(e.ts.UTC().AppendFormat(b, time.RFC3339Nano), ' ')
	}
	b = append(b, e.content...)
	if !e.partial {
		b = append(b, '\n')
	}
	if lw.remaining >= 0 && int64(len(b)) >= lw.remaining {
		lw.w.Write(b[:lw.remaining])
		lw.remaining = 0
		return errLimit
	}
	if lw.remaining >= 0 {
		lw.remaining -= int64(len(b))
	}
	_, err := lw.w.Write(b)
	return err
}

// removeStaleLogFIFOs removes the FIFO dirs of container tasks that no
// longer exist (containers that ended while no agent ran): only a live
// task's FIFOs can be attached again.
func (r *Runtime) removeStaleLogFIFOs(ctx context.Context) {
	root := filepath.Join(r.cfg.DataDir, "log-fifo")
	entries, err := os.ReadDir(root)
	if err != nil {
		return // none yet
	}
	resp, err := r.client.TaskService().List(ctx, &tasks.ListTasksRequest{})
	if err != nil {
		r.cfg.Logger.Warn("list tasks for stale log FIFOs", "error", err)
		return
	}
	live := map[string]bool{}
	for _, t := range resp.Tasks {
		for _, p := range []string{t.Stdout, t.Stderr} {
			if p != "" {
				live[filepath.Dir(p)] = true
			}
		}
	}
	for _, e := range entries {
		if dir := filepath.Join(root, e.Name()); !live[dir] {
			os.RemoveAll(dir)
		}
	}
}
