package nodeapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/node/runtime"
)

// writeStatus answers with a Kubernetes Status, as the API would.
func writeStatus(w http.ResponseWriter, code int, reason metav1.StatusReason, msg string) {
	st := metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusFailure,
		Message: msg, Reason: reason, Code: int32(code)}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(&st)
}

// writeError maps a runtime error to its Status.
func writeError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, runtime.ErrPodNotFound):
		writeStatus(w, http.StatusNotFound, metav1.StatusReasonNotFound, err.Error())
	case errors.Is(err, runtime.ErrContainerNotFound), errors.Is(err, runtime.ErrNoLog), errors.Is(err, runtime.ErrNotRunning):
		writeStatus(w, http.StatusBadRequest, metav1.StatusReasonBadRequest, err.Error())
	default:
		writeStatus(w, http.StatusInternalServerError, metav1.StatusReasonInternalError, err.Error())
	}
}

// lazyWriter commits the response (status 200, content type) at the first
// write and flushes after every write, so that an error found before any
// output can still be a Status.
type lazyWriter struct {
	mu          sync.Mutex
	w           http.ResponseWriter
	rc          *http.ResponseController
	contentType string
	started     bool
}

func newLazyWriter(w http.ResponseWriter, contentType string) *lazyWriter {
	return &lazyWriter{w: w, rc: http.NewResponseController(w), contentType: contentType}
}

func (l *lazyWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.startLocked()
	n, err := l.w.Write(p)
	if err == nil {
		err = l.rc.Flush()
	}
	return n, err
}

// Started commits the answer without output and sends it (the runtime
// calls it once the log is open or the command runs).
func (l *lazyWriter) Started() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.startLocked()
	l.rc.Flush()
}

func (l *lazyWriter) startLocked() {
	if !l.started {
		l.started = true
		l.w.Header().Set("Content-Type", l.contentType)
		l.w.Header().Set("X-Content-Type-Options", "nosniff")
		l.w.WriteHeader(http.StatusOK)
	}
}

func (l *lazyWriter) hasStarted() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.started
}
