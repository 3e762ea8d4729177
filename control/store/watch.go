package store

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// maxQueued is how many undelivered events a watcher may hold before it is
// ended with ErrWatcherTooSlow (the client then watches again from its last
// revision, or relists when that is gone).
const maxQueued = 100_000

// hub fans applied events out to watchers. publish runs on raft's apply
// goroutine after the batch is committed to bbolt; it never blocks on a
// watcher. Watchers are indexed by resource, so a write wakes only the
// watchers of its resource, and each event is turned into its delivered
// form (decrypted) once, not once per watcher.
type hub struct {
	mu       sync.Mutex
	rev      atomic.Uint64 // last published revision, stored once the batch is queued to every watcher
	watchers map[string]*resourceWatchers
	count    int
	xform    func(Event) (Event, error) // stored -> delivered form (decryption)
}

func newHub(rev uint64, xform func(Event) (Event, error)) *hub {
	h := &hub{watchers: map[string]*resourceWatchers{}, xform: xform}
	h.rev.Store(rev)
	return h
}

func (h *hub) publish(events []Event, rev uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.count > 0 {
		byRes := map[string][]int{}
		var order []string
		for i, ev := range events {
			r := ev.Object.Key.Resource
			if h.watchers[r] == nil {
				continue
			}
			if _, ok := byRes[r]; !ok {
				order = append(order, r)
			}
			byRes[r] = append(byRes[r], i)
		}
		for _, r := range order {
			idx := byRes[r]
			out, errs := make([]Event, len(idx)), make([]error, len(idx))
			for j, i := range idx {
				out[j], errs[j] = h.xform(events[i])
			}
			rw := h.watchers[r]
			for w := range rw.any {
				w.push(out, errs)
			}
			if len(rw.named) == 0 {
				continue
			}
			// Watchers of one name get only that name's events.
			byName := map[nameKey][]int{}
			var names []nameKey
			for j, ev := range out {
				k := nameKey{ev.Object.Key.Namespace, ev.Object.Key.Name}
				if rw.named[k] == nil {
					continue
				}
				if _, ok := byName[k]; !ok {
					names = append(names, k)
				}
				byName[k] = append(byName[k], j)
			}
			for _, k := range names {
				evs, es := make([]Event, 0, len(byName[k])), make([]error, 0, len(byName[k]))
				for _, j := range byName[k] {
					evs, es = append(evs, out[j]), append(es, errs[j])
				}
				for w := range rw.named[k] {
					w.push(evs, es)
				}
			}
		}
	}
	if rev > h.rev.Load() {
		h.rev.Store(rev)
	}
}

// nameKey is the namespace and name a watcher of one object watches.
type nameKey struct{ namespace, name string }

// resourceWatchers are the watchers of one resource: of one name (a
// namespace and name, as a kubelet watches its pods' ConfigMaps), or of
// any (a namespace, or all).
type resourceWatchers struct {
	any   map[*Watcher]struct{}
	named map[nameKey]map[*Watcher]struct{}
}

func (h *hub) revision() uint64 { return h.rev.Load() }

func (h *hub) add(w *Watcher) {
	r := w.opts.Resource
	rw := h.watchers[r]
	if rw == nil {
		rw = &resourceWatchers{any: map[*Watcher]struct{}{}, named: map[nameKey]map[*Watcher]struct{}{}}
		h.watchers[r] = rw
	}
	if w.opts.Name != "" && w.opts.Namespace != "" {
		k := nameKey{w.opts.Namespace, w.opts.Name}
		if rw.named[k] == nil {
			rw.named[k] = map[*Watcher]struct{}{}
		}
		rw.named[k][w] = struct{}{}
	} else {
		rw.any[w] = struct{}{}
	}
	h.count++
}

func (h *hub) size() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.count
}

// reset ends every watcher: the state was replaced by a snapshot.
func (h *hub) reset(rev uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.rev.Store(rev)
	for r, rw := range h.watchers {
		for w := range rw.any {
			w.fail(ErrWatcherTooSlow)
		}
		for _, ws := range rw.named {
			for w := range ws {
				w.fail(ErrWatcherTooSlow)
			}
		}
		delete(h.watchers, r)
	}
	h.count = 0
}

func (h *hub) remove(w *Watcher) {
	h.mu.Lock()
	defer h.mu.Unlock()
	rw := h.watchers[w.opts.Resource]
	if rw == nil {
		return
	}
	set := rw.any
	k := nameKey{w.opts.Namespace, w.opts.Name}
	if w.opts.Name != "" && w.opts.Namespace != "" {
		set = rw.named[k]
	}
	if _, ok := set[w]; !ok {
		return
	}
	delete(set, w)
	h.count--
	if w.opts.Name != "" && w.opts.Namespace != "" && len(set) == 0 {
		delete(rw.named, k)
	}
	if len(rw.any) == 0 && len(rw.named) == 0 {
		delete(h.watchers, w.opts.Resource)
	}
}

// Watcher is one open watch. Read Events until it closes, then Err says why
// (nil when the context ended). A watcher opened with WatchOptions.Batches
// has no Events channel: wait on Ready and Take what is queued.
type Watcher struct {
	opts   WatchOptions
	ch     chan Event
	notify chan struct{}
	done   chan struct{}
	hub    *hub

	mu     sync.Mutex
	queue  []Event // in delivered form
	err    error
	failed bool
	busy   bool   // run holds events taken from the queue, not yet on Events
	floor  uint64 // revision up to which every matching event was delivered, at least
}

// Progress is the revision up to which every matching event has been
// delivered (put on Events, or taken with Take): a watch bookmark may carry
// it. An idle watcher is at the last published revision.
func (w *Watcher) Progress() uint64 {
	rev := w.hub.revision() // first: every event up to rev is queued by now
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.failed && !w.busy && len(w.queue) == 0 && rev > w.floor {
		w.floor = rev
	}
	return w.floor
}

// Events delivers the watched events in revision order (nil for a
// Batches watcher).
func (w *Watcher) Events() <-chan Event { return w.ch }

// Ready is signalled when a Batches watcher may have events to Take, or
// has ended.
func (w *Watcher) Ready() <-chan struct{} { return w.notify }

// Take returns every event queued for a Batches watcher, in revision
// order, and, once the watcher has failed, the error that ended it (the
// events before the failure come first). Progress counts the taken events
// as delivered: the caller sends them before it asks.
func (w *Watcher) Take() ([]Event, error) {
	rev := w.hub.revision()
	w.mu.Lock()
	defer w.mu.Unlock()
	batch := w.queue
	w.queue = nil
	if w.failed {
		return batch, w.err
	}
	if rev > w.floor {
		w.floor = rev
	}
	return batch, nil
}

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

// push queues the matching events of a published batch (events of the
// watcher's resource, delivered form; errs[i] is why event i could not be
// decrypted); called with the hub lock held.
func (w *Watcher) push(events []Event, errs []error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failed {
		return
	}
	queued := false
	for i, ev := range events {
		if ev.Revision <= w.opts.Revision || !w.matches(ev.Object.Key) {
			continue
		}
		if errs[i] != nil {
			w.err, w.failed = errs[i], true
			break
		}
		w.queue = append(w.queue, ev)
		queued = true
	}
	if len(w.queue) > maxQueued {
		w.queue = nil
		w.err, w.failed = ErrWatcherTooSlow, true
	}
	if queued || w.failed {
		select {
		case w.notify <- struct{}{}:
		default:
		}
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

// run delivers queued events on Events until ctx ends or the watcher fails.
func (w *Watcher) run(ctx context.Context) {
	defer close(w.done)
	defer close(w.ch)
	defer w.hub.remove(w)
	for {
		rev := w.hub.revision()
		w.mu.Lock()
		batch, failed := w.queue, w.failed
		w.queue, w.busy = nil, len(batch) > 0
		w.mu.Unlock()
		for _, ev := range batch {
			select {
			case w.ch <- ev:
			case <-ctx.Done():
				return
			}
		}
		w.mu.Lock()
		w.busy = false
		if !failed && rev > w.floor {
			w.floor = rev
		}
		w.mu.Unlock()
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

// wait ends a Batches watcher when ctx does.
func (w *Watcher) wait(ctx context.Context) {
	defer close(w.done)
	<-ctx.Done()
	w.hub.remove(w)
	w.mu.Lock()
	w.queue = nil
	w.mu.Unlock()
}

// futureRevisionWait is how long a list or watch at a revision this
// member has not reached waits for it before failing with
// ErrFutureRevision (kube-apiserver's watch cache waits 3 s too).
const futureRevisionWait = 3 * time.Second

// Test hooks (nil in production): between marking a batch applied and
// publishing it, and between a new watcher's two history phases.
var (
	testHookBeforePublish  func(rev uint64)
	testHookBeforeRegister func()
)

// readHistory returns the retained events with from < revision <= to that
// match w, in order.
func readHistory(tx *bolt.Tx, w *Watcher, from, to uint64) ([]Event, error) {
	var out []Event
	if from >= to { // nothing after from; also keeps from+1 from wrapping
		return nil, nil
	}
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
	w := &Watcher{opts: opts, notify: make(chan struct{}, 1), done: make(chan struct{}), hub: h}
	if !opts.Batches {
		w.ch = make(chan Event, 64)
	}
	cur := h.revision()
	if opts.Revision == 0 {
		w.opts.Revision = cur
	}
	if opts.Revision > cur {
		// A revision this member has not reached (a client ahead of it,
		// or a bogus one such as 2^64-1): wait a little, then refuse
		// rather than watch from a revision that may never come.
		if err := f.waitApplied(opts.Revision, futureRevisionWait); err != nil {
			return nil, ErrFutureRevision
		}
		// Applied, but perhaps not yet published: the hub may still be
		// behind opts.Revision. Nothing at or below it is replayed
		// (push skips those too).
		cur = max(h.revision(), opts.Revision)
	}
	_, floor := f.appliedIndex()
	if w.opts.Revision+1 < floor {
		return nil, gone(w.opts.Revision, floor)
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
	if testHookBeforeRegister != nil {
		testHookBeforeRegister()
	}
	// Phase 2: whatever was published meanwhile, then register, atomically
	// with respect to publish so that nothing is missed or repeated.
	h.mu.Lock()
	if rev := h.revision(); rev > cur {
		var more []Event
		err = f.view(func(tx *bolt.Tx) (err error) {
			more, err = readHistory(tx, w, cur, rev)
			return err
		})
		hist = append(hist, more...)
	}
	for i := 0; err == nil && i < len(hist); i++ {
		hist[i], err = h.xform(hist[i])
	}
	if err == nil {
		w.queue, w.floor = hist, w.opts.Revision
		h.add(w)
	}
	h.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if opts.Batches {
		if len(hist) > 0 {
			w.notify <- struct{}{}
		}
		go w.wait(ctx)
	} else {
		go w.run(ctx)
	}
	return w, nil
}
