package runtime

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// activeDeadlineSeconds, as the kubelet enforces it: counted from the
// pod's status.startTime; once passed, the pod is Failed with reason
// DeadlineExceeded and its containers are stopped (preStop, SIGTERM, the
// pod's grace period, SIGKILL) and not restarted. The pod is not removed:
// that waits for its deletion.

const (
	reasonDeadlineExceeded  = "DeadlineExceeded"
	messageDeadlineExceeded = "Pod was active on the node longer than the specified deadline"
)

// setActiveDeadline takes a new activeDeadlineSeconds from the API (the
// one field besides images a pod update may change).
func (w *podWorker) setActiveDeadline(secs *int64) {
	w.mu.Lock()
	same := secs == nil && w.activeDeadline == nil || secs != nil && w.activeDeadline != nil && *secs == *w.activeDeadline
	if !same {
		if secs != nil {
			v := *secs
			secs = &v
		}
		w.activeDeadline = secs
	}
	w.mu.Unlock()
	if !same {
		select {
		case w.deadlineSet <- struct{}{}:
		default:
		}
	}
}

// activeDeadlineAt is when the pod's active deadline passes; false when it
// has none.
func (w *podWorker) activeDeadlineAt() (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.activeDeadline == nil || w.status.StartTime == nil {
		return time.Time{}, false
	}
	return w.status.StartTime.Add(time.Duration(*w.activeDeadline) * time.Second), true
}

// watchDeadline expires the pod at its active deadline until the returned
// stop (idempotent; it waits for the watcher) is called, the pod stops or
// the runtime detaches.
func (w *podWorker) watchDeadline(ctx context.Context, log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			var fire <-chan time.Time
			t := time.NewTimer(0)
			t.Stop()
			if at, ok := w.activeDeadlineAt(); ok {
				t.Reset(time.Until(at))
				fire = t.C
			}
			select {
			case <-ctx.Done():
			case <-w.stop:
			case <-w.deadlineSet:
				t.Stop()
				continue
			case <-fire:
				w.expire(log)
			}
			t.Stop()
			return
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { cancel(); <-done }) }
}

// expire fails the pod for its active deadline and stops its containers
// with the pod's grace period.
func (w *podWorker) expire(log *slog.Logger) {
	log.Info("active deadline exceeded; stopping the pod")
	w.mu.Lock()
	w.expired = true
	w.mu.Unlock()
	w.normal(reasonDeadlineExceeded, "", "%s", messageDeadlineExceeded)
	w.report()
	w.halt(gracePeriod(w.pod))
}
