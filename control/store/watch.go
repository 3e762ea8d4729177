package store

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"
)

// maxQueued is how many undelivered events a watcher may hold before it is
// ended with ErrWatcherTooSlow (the client then watches again from its last
// revision, or relists when that is gone).
const maxQueued = 100_000

// hub fans applied events out to watchers. publish runs on raft's apply
// goroutine after the batch is committed to bbolt; it never blocks on a
// watcher.
type hub struct {
	mu       sync.Mutex
	rev      uint64 // last published revision
	watchers map[*Watcher]struct{}
}

func newHub(rev uint64) *hub { return &hub{rev: rev, watchers: map[*Watcher]struct{}{}} }

func (h *hub) publish(events []Event, rev uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if rev > h.rev {
		h.rev = rev
	}
	for w := range h.watchers {
		w.push(events, rev)
	}
}

func (h *hub) revision() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.rev
}

// reset ends every watcher: the state was replaced by a snapshot.
func (h *hub) reset(rev uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.rev = rev
	for w := range h.watchers {
		w.fail(ErrWatcherTooSlow)
		delete(h.watchers, w)
	}
}

func (h *hub) remove(w *Watcher) {
	h.mu.Lock()
	delete(h.watchers, w)
	h.mu.Unlock()
}

// Watcher is one open watch. Read Events until it closes, then Err says why
// (nil when the context ended).
type Watcher struct {
	opts   WatchOptions
	ch     chan Event
	notify chan struct{}
	done   chan struct{}
	hub    *hub

	mu       sync.Mutex
	queue    []Event
	queueRev uint64 // revision up to which every matching event is queued
	err      error
	failed   bool

	progress atomic.Uint64 // revision up to which every matching event was delivered
}

// Progress is the revision up to which every matching event has been put on
// Events: a watch bookmark may carry it.
func (w *Watcher) Progress() uint64 { return w.progress.Load() }

// Events delivers the watched events in revision order.
func (w *Watcher) Events() <-chan Event { return w.ch }

// Err is why the watch ended, once Events is closed.
func (w *Watcher) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *Watcher) matches(k Key) bool {
	o := w.opts
	return k.Resource == o.Resource && (o.Namespace == "" || k.Namespace == o.Namespace) && (o.Name == "" || k.Name == o.Name)
}

// push queues the matching events of a batch applied up to rev; called
// with the hub lock held.
func (w *Watcher) push(events []Event, rev uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failed {
		return
	}
	if rev > w.queueRev {
		w.queueRev = rev
	}
	for _, ev := range events {
		if ev.Revision > w.opts.Revision && w.matches(ev.Object.Key) {
			w.queue = append(w.queue, ev)
		}
	}
	if len(w.queue) > maxQueued {
		w.queue = nil
		w.err, w.failed = ErrWatcherTooSlow, true
	}
	select {
	case w.notify <- struct{}{}:
	default:
	}
}

func (w *Watcher) fail(err error) {
	w.mu.Lock()
	if !w.failed {
		w.err, w.failed = err, true
	}
	w.mu.Unlock()
	select {
	case w.notify <- struct{}{}:
	default:
	}
}

// run delivers queued events until ctx ends or the watcher fails.
func (w *Watcher) run(ctx context.Context) {
	defer close(w.done)
	defer close(w.ch)
	defer w.hub.remove(w)
	for {
		w.mu.Lock()
		batch, failed, upTo := w.queue, w.failed, w.queueRev
		w.queue = nil
		w.mu.Unlock()
		for _, ev := range batch {
			select {
			case w.ch <- ev:
			case <-ctx.Done():
				return
			}
		}
		if !failed && upTo > w.progress.Load() {
			w.progress.Store(upTo)
		}
		if failed && len(batch) == 0 {
			return
		}
		if len(batch) > 0 {
			continue
		}
		select {
		case <-w.notify:
		case <-ctx.Done():
			return
		}
	}
}

// readHistory returns the retained events with from < revision <= to that
// match w, in order.
func readHistory(tx *bolt.Tx, w *Watcher, from, to uint64) ([]Event, error) {
	var out []Event
	c := tx.Bucket(bucketEvents).Cursor()
	end := u64(to)
	for k, v := c.Seek(u64(from + 1)); k != nil && bytes.Compare(k[:8], end) <= 0; k, v = c.Next() {
		ev, err := decodeEvent(v)
		if err != nil {
			return nil, err
		}
		if w.matches(ev.Object.Key) {
			out = append(out, ev)
		}
	}
	return out, nil
}

// watch registers a watcher after catching it up from the history.
func (f *fsm) watch(ctx context.Context, h *hub, opts WatchOptions) (*Watcher, error) {
	w := &Watcher{opts: opts, ch: make(chan Event, 64), notify: make(chan struct{}, 1), done: make(chan struct{}), hub: h}
	cur := h.revision()
	if opts.Revision == 0 {
		w.opts.Revision = cur
	}
	_, floor := f.appliedIndex()
	if w.opts.Revision+1 < floor {
		return nil, ErrGone
	}
	// Phase 1: the bulk of the history without holding the hub.
	var hist []Event
	err := f.view(func(tx *bolt.Tx) (err error) {
		hist, err = readHistory(tx, w, w.opts.Revision, cur)
		return err
	})
	if err != nil {
		return nil, err
	}
	// Phase 2: whatever was published meanwhile, then register, atomically
	// with respect to publish so that nothing is missed or repeated.
	h.mu.Lock()
	if h.rev > cur {
		var more []Event
		err = f.view(func(tx *bolt.Tx) (err error) {
			more, err = readHistory(tx, w, cur, h.rev)
			return err
		})
		hist = append(hist, more...)
	}
	if err == nil {
		w.queue, w.queueRev = hist, max(h.rev, w.opts.Revision)
		w.progress.Store(w.opts.Revision)
		h.watchers[w] = struct{}{}
	}
	h.mu.Unlock()
	if err != nil {
		return nil, err
	}
	go w.run(ctx)
	return w, nil
}
