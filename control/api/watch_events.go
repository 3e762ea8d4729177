package api

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/weirnet/weir/control/store"
)

// streamEvents forwards the watcher's events until the context ends, the
// client goes away or the watcher stops (then the client watches again
// from the last resourceVersion it saw).
func (s *Server) streamEvents(ctx context.Context, st *stream, rq *request, p *watchParams, watcher *store.Watcher) {
	var tick <-chan time.Time
	if p.bookmarks {
		t := time.NewTicker(s.cfg.BookmarkInterval)
		defer t.Stop()
		tick = t.C
	}
	last := p.start
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.stopWatches:
			return
		case ev, ok := <-watcher.Events():
			if !ok {
				if err := watcher.Err(); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
					s.log.Info("watch ended by the store", "resource", rq.res.Resource(), "err", err)
				}
				return
			}
			last = ev.Revision
			typ, obj, err := s.translate(rq.res, p.sel, ev)
			if err != nil {
				st.send("ERROR", &errInternal(err).status)
				return
			}
			if typ != "" && !st.send(typ, obj) {
				return
			}
		case <-tick:
			if !st.send("BOOKMARK", s.bookmark(rq.res, progress(watcher, last))) {
				return
			}
		}
	}
}

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

// bookmark is an empty object of the kind carrying only a revision.
func (s *Server) bookmark(res *resource, rev uint64) object {
	obj := res.newObj()
	res.setTypeMeta(obj)
	obj.SetResourceVersion(strconv.FormatUint(rev, 10))
	return obj
}

// translate turns a store event into a watch event for a selector: an
// object that starts matching is ADDED, one that stops matching DELETED,
// like kube-apiserver's filtered watches. "" means not for this watch.
func (s *Server) translate(res *resource, sel *selector, ev store.Event) (string, object, error) {
	obj, err := res.decodeStored(ev.Object)
	if err != nil {
		return "", nil, err
	}
	now := sel.matches(obj)
	before := false
	if ev.Prev != nil && ev.Type == store.Modified {
		prev, err := res.decodeStored(*ev.Prev)
		if err != nil {
			return "", nil, err
		}
		before = sel.matches(prev)
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
