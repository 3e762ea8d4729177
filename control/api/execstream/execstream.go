package execstream

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
)

// ContentType is the media type of an exec stream.
const ContentType = "application/vnd.weir.exec.v1"

// Channels of the frames.
const (
	ChanStdout byte = 1
	ChanStderr byte = 2
	ChanExit   byte = 3
	ChanError  byte = 4
)

// MaxPayload bounds one frame's payload; longer writes are split.
const MaxPayload = 1 << 20

// ErrTruncated: the stream ended before its exit or error frame.
var ErrTruncated = errors.New("execstream: the stream ended before the command's exit status (connection lost?)")

// Writer writes frames to an underlying writer; it is safe for concurrent
// use (stdout and stderr are copied by different goroutines).
type Writer struct {
	mu    sync.Mutex
	w     io.Writer
	flush func()
	err   error
}

// NewWriter writes frames to w and calls flush (if not nil) after each.
func NewWriter(w io.Writer, flush func()) *Writer { return &Writer{w: w, flush: flush} }

// Stdout and Stderr are writers whose writes become frames of the channel.
func (w *Writer) Stdout() io.Writer { return chanWriter{w, ChanStdout} }
func (w *Writer) Stderr() io.Writer { return chanWriter{w, ChanStderr} }

// Exit ends the stream with the command's exit code.
func (w *Writer) Exit(code int) error { return w.frame(ChanExit, []byte(strconv.Itoa(code))) }

// Error ends the stream with a message.
func (w *Writer) Error(msg string) error { return w.frame(ChanError, []byte(msg)) }

func (w *Writer) frame(ch byte, p []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	buf := make([]byte, 5, 5+len(p)) // one write per frame: one flush, one TLS record
	buf[0] = ch
	binary.BigEndian.PutUint32(buf[1:], uint32(len(p)))
	if _, err := w.w.Write(append(buf, p...)); err != nil {
		w.err = err
		return err
	}
	if w.flush != nil {
		w.flush()
	}
	return nil
}

type chanWriter struct {
	w  *Writer
	ch byte
}

func (c chanWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		k := min(len(p), MaxPayload)
		if err := c.w.frame(c.ch, p[:k]); err != nil {
			return n, err
		}
		n, p = n+k, p[k:]
	}
	return n, nil
}

// RemoteError is an error frame: why the command did not run to its end.
type RemoteError struct{ Message string }

func (e *RemoteError) Error() string { return e.Message }

// Read copies the output frames of r to stdout and stderr and returns the
// exit code, a *RemoteError for an error frame, or ErrTruncated.
func Read(r io.Reader, stdout, stderr io.Writer) (int, error) {
	var hdr [5]byte
	buf := make([]byte, 32<<10)
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return 0, ErrTruncated
			}
			return 0, fmt.Errorf("execstream: read: %w", err)
		}
		n := binary.BigEndian.Uint32(hdr[1:])
		if n > MaxPayload {
			return 0, fmt.Errorf("execstream: frame of %d bytes is over the limit of %d", n, MaxPayload)
		}
		body := io.LimitReader(r, int64(n))
		switch hdr[0] {
		case ChanStdout, ChanStderr:
			dst := stdout
			if hdr[0] == ChanStderr {
				dst = stderr
			}
			if k, err := io.CopyBuffer(dst, body, buf); err != nil || k != int64(n) {
				return 0, copyErr(err)
			}
		case ChanExit, ChanError:
			p, err := io.ReadAll(body) // grows with what arrives, not with what the header claims
			if err != nil || len(p) != int(n) {
				return 0, ErrTruncated
			}
			return ending(hdr[0], p)
		default:
			return 0, fmt.Errorf("execstream: unknown channel %d: update weir", hdr[0])
		}
	}
}

func copyErr(err error) error {
	if err == nil {
		return ErrTruncated
	}
	return fmt.Errorf("execstream: copy output: %w", err)
}

func ending(ch byte, p []byte) (int, error) {
	if ch == ChanError {
		return 0, &RemoteError{Message: string(p)}
	}
	code, err := strconv.Atoi(string(p))
	if err != nil || code < 0 || code > 255 {
		return 0, fmt.Errorf("execstream: bad exit code %q", p)
	}
	return code, nil
}
