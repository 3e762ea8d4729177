package api

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/store"
)

// streamEvents forwards the watcher's events until the context ends
// (timeoutSeconds, the client going away, CloseWatches: the store then
// ends the watcher, which wakes it), the client stops reading or the
// watcher stops (then the client watches again from the last
// resourceVersion it saw).
func (s *Server) streamEvents(ctx context.Context, st *stream, rq *request, p *watchParams, watcher *store.Watcher) {
	var tick <-chan time.Time
	if p.bookmarks {
		t := time.NewTicker(s.cfg.BookmarkInterval)
		defer t.Stop()
		tick = t.C
	}
	last := p.start
	// Each wake-up takes every event queued for this watcher: they are
	// written under one write deadline and flushed once. Events are never
	// held back for company (that would delay every controller and agent).
	// Without bookmarks the watcher's Ready is the one channel waited on.
	for {
		if tick == nil {
			<-watcher.Ready()
		} else {
			select {
			case <-watcher.Ready():
			case <-tick:
				if !st.send("BOOKMARK", s.bookmark(rq.res, progress(watcher, last), false)) {
					return
				}
				continue
			}
		}
		evs, werr := watcher.Take()
		if ctx.Err() != nil || !s.writeEvents(st, rq, p, evs, &last) {
			return
		}
		if werr != nil {
			if !errors.Is(werr, context.Canceled) && !errors.Is(werr, context.DeadlineExceeded) {
				s.log.Info("watch ended by the store", "resource", rq.res.Resource(), "err", werr)
			}
			return
		}
	}
}

// writeEvents writes the frames of a burst of store events that this
// watch selects, then flushes once; false: the stream is over. The frames
// of a burst are gathered and written together, up to maxBatchWrite at a
// time: a few large TLS records and writes instead of one per buffer the
// HTTP server fills on the way (a watcher of many objects wakes to many
// events at once).
func (s *Server) writeEvents(st *stream, rq *request, p *watchParams, evs []store.Event, last *uint64) bool {
	if len(evs) == 0 {
		return true
	}
	st.extendDeadline()
	var batch *bytes.Buffer
	if len(evs) > 1 {
		batch = batchBuffers.Get().(*bytes.Buffer)
		defer func() {
			if batch.Cap() <= 4*maxBatchWrite {
				batch.Reset()
				batchBuffers.Put(batch)
			}
		}()
	}
	write := func(b []byte) bool {
		_, err := st.w.Write(b)
		return err == nil
	}
	wrote := false
	for _, ev := range evs {
		*last = ev.Revision
		ef := s.frames.get(ev)
		typ, obj, err := ef.translate(rq.res, p.sel, ev)
		if err != nil {
			st.send("ERROR", wireStatus(errInternal(err)))
			return false
		}
		if typ == "" {
			continue
		}
		frame, err := ef.frame(st, typ, obj)
		if err != nil {
			st.send("ERROR", wireStatus(asStatus(err)))
			return false
		}
		wrote = true
		if batch == nil {
			if !write(frame) {
				return false
			}
			continue
		}
		batch.Write(frame)
		if batch.Len() >= maxBatchWrite {
			if !write(batch.Bytes()) {
				return false
			}
			batch.Reset()
		}
	}
	if batch != nil && batch.Len() > 0 && !write(batch.Bytes()) {
		return false
	}
	return !wrote || st.rc.Flush() == nil
}

// maxBatchWrite is how many bytes of a burst's frames are written at
// once: a TLS record's most.
const maxBatchWrite = 16 << 10

// batchBuffers hold bursts' frames while they are gathered.
var batchBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// progress is the revision up to which every matching event has been
// delivered: the store watcher's own progress when it reports one,
// otherwise the last event's revision (always safe, advances only with
// events of this watch).
func progress(w *store.Watcher, last uint64) uint64 {
	if pr, ok := any(w).(interface{ Progress() uint64 }); ok {
		if p := pr.Progress(); p > last {
			return p
		}
	}
	return last
}

// bookmark is an empty object of the kind carrying only a revision and,
// at the end of a watch's initial events, the k8s.io/initial-events-end
// annotation.
func (s *Server) bookmark(res *resource, rev uint64, endOfInitial bool) object {
	obj := res.newObj()
	res.setTypeMeta(obj)
	obj.SetResourceVersion(strconv.FormatUint(rev, 10))
	if endOfInitial {
		obj.SetAnnotations(map[string]string{metav1.InitialEventsAnnotationKey: "true"})
	}
	return obj
}

// translate turns a store event into a watch event for a selector: an
// object that starts matching is ADDED, one that stops matching DELETED,
// like kube-apiserver's filtered watches. "" means not for this watch.
// The decoded objects are shared by every watcher of the event: they are
// read, never changed.
func (ef *eventFrames) translate(res *resource, sel *selector, ev store.Event) (string, object, error) {
	ef.once.Do(func() { ef.obj, ef.err = res.decodeStored(ev.Object) })
	if ef.err != nil {
		return "", nil, ef.err
	}
	obj := ef.obj
	now := sel.matches(obj)
	before := false
	if ev.Prev != nil && ev.Type == store.Modified && !sel.immutable() {
		ef.prevOnce.Do(func() { ef.prev, ef.prevErr = res.decodeStored(*ev.Prev) })
		if ef.prevErr != nil {
			return "", nil, ef.prevErr
		}
		before = sel.matches(ef.prev)
	} else if ev.Prev != nil && ev.Type == store.Modified {
		before = now // the selector reads nothing an update changes
	}
	switch {
	case ev.Type == store.Added && now, ev.Type == store.Modified && now && !before:
		return "ADDED", obj, nil
	case ev.Type == store.Modified && now:
		return "MODIFIED", obj, nil
	case ev.Type == store.Modified && before, ev.Type == store.Deleted && now:
		return "DELETED", obj, nil
	}
	return "", nil, nil
}

// frameCacheSize is how many recent events keep their decoded object and
// encoded frames; a watcher further behind decodes and encodes again.
const frameCacheSize = 1024

// frameCache shares the work of a watch event among its watchers: the
// stored object is decoded once, and encoded once per event type, media
// type and shape (object or Table row), not once per watcher. Entries are
// dropped oldest first beyond frameCacheSize.
type frameCache struct {
	mu      sync.Mutex
	entries map[eventID]*eventFrames
	ring    []eventID // insertion order, frameCacheSize slots
	next    int
}

// eventID names a store event: one key changes at most once a revision.
type eventID struct {
	rev uint64
	key store.Key
}

// eventFrames is one event's decoded object (and previous object, for
// selectors) and its encoded frames.
type eventFrames struct {
	once     sync.Once
	obj      object
	err      error
	prevOnce sync.Once
	prev     object
	prevErr  error

	mu     sync.Mutex // serializes encodings: encoders touch the object's TypeMeta
	frames map[frameKey][]byte
}

// frameKey is a frame's shape: event type, the stream's media type and,
// for Tables, the Table options.
type frameKey struct {
	typ, shape string
}

func newFrameCache() *frameCache {
	return &frameCache{entries: map[eventID]*eventFrames{}, ring: make([]eventID, frameCacheSize)}
}

func (c *frameCache) get(ev store.Event) *eventFrames {
	id := eventID{rev: ev.Revision, key: ev.Object.Key}
	c.mu.Lock()
	defer c.mu.Unlock()
	if ef, ok := c.entries[id]; ok {
		return ef
	}
	ef := &eventFrames{}
	if old := c.ring[c.next]; old != (eventID{}) {
		delete(c.entries, old)
	}
	c.ring[c.next] = id
	c.next = (c.next + 1) % len(c.ring)
	c.entries[id] = ef
	return ef
}

// frame is the event encoded for st: built by the first watcher of this
// shape, shared by the others.
func (ef *eventFrames) frame(st *stream, typ string, obj object) ([]byte, error) {
	k := frameKey{typ: typ, shape: st.shape}
	ef.mu.Lock()
	defer ef.mu.Unlock()
	if f, ok := ef.frames[k]; ok {
		return f, nil
	}
	var buf bytes.Buffer
	if err := st.encodeEvent(&buf, typ, obj); err != nil {
		return nil, err
	}
	if ef.frames == nil {
		ef.frames = map[frameKey][]byte{}
	}
	f := buf.Bytes()
	ef.frames[k] = f
	st.s.metrics.encoded.Inc()
	return f, nil
}
