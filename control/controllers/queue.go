package controllers

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"k8s.io/client-go/util/workqueue"
)

// reconcile brings one key to its desired state at now. A non-nil error
// retries the key with back-off; after > 0 looks at it again then (for
// decisions that depend on time), even without a change.
type reconcile func(ctx context.Context, key string, now time.Time) (after time.Duration, err error)

// loop is one controller: a rate-limited work queue of keys fed by
// informer event handlers, and workers that reconcile one key at a time
// (the queue never hands the same key to two workers at once).
type loop struct {
	name    string
	q       workqueue.TypedRateLimitingInterface[string]
	sync    reconcile
	workers int
}

func newLoop(name string, workers int, sync reconcile) *loop {
	q := workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: name})
	return &loop{name: name, q: q, sync: sync, workers: workers}
}

// add enqueues key (no-op when it is queued already).
func (l *loop) add(key string) {
	if key != "" {
		l.q.Add(key)
	}
}

// run starts the workers in wg; they end when the queue shuts down.
func (l *loop) run(ctx context.Context, wg *sync.WaitGroup, now func() time.Time, log *slog.Logger, done func(controller, key string)) {
	for range l.workers {
		wg.Go(func() {
			for l.work(ctx, now, log, done) {
			}
		})
	}
}

func (l *loop) work(ctx context.Context, now func() time.Time, log *slog.Logger, done func(controller, key string)) bool {
	key, quit := l.q.Get()
	if quit {
		return false
	}
	defer l.q.Done(key)
	after, err := l.sync(ctx, key, now())
	if done != nil {
		done(l.name, key)
	}
	switch {
	case ctx.Err() != nil:
	case err != nil:
		log.Debug("reconcile failed; retrying", "controller", l.name, "key", key, "error", err)
		l.q.AddRateLimited(key)
	default:
		l.q.Forget(key)
		if after > 0 {
			l.q.AddAfter(key, after)
		}
	}
	return true
}

// every enqueues the keys keys() returns every d until ctx ends.
func every(ctx context.Context, wg *sync.WaitGroup, d time.Duration, l *loop, keys func() []string) {
	wg.Go(func() {
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				for _, k := range keys() {
					l.add(k)
				}
			}
		}
	})
}
