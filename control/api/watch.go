package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/weirnet/weir/control/store"
)

// watchEvent is one line of a watch stream.
type watchEvent struct {
	Type   string `json:"type"`
	Object any    `json:"object"`
}

// watchParams are a watch request's query parameters.
type watchParams struct {
	sel       *selector
	start     uint64 // watch events after this revision
	initial   bool   // send the current state as ADDED events first
	stale     bool   // the initial list may be a local read
	bookmarks bool
	timeout   time.Duration
}

func (s *Server) parseWatch(r *http.Request, rq *request) (*watchParams, error) {
	sel, err := parseSelector(r, rq.res)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	p := &watchParams{sel: sel, bookmarks: q.Get("allowWatchBookmarks") == "true", timeout: s.cfg.MaxWatchTimeout}
	switch rv := q.Get("resourceVersion"); rv {
	case "", "0":
		p.initial, p.stale = true, rv == "0"
	default:
		if p.start, err = parseRevision(rv); err != nil {
			return nil, err
		}
	}
	if ts := q.Get("timeoutSeconds"); ts != "" {
		n, err := strconv.ParseInt(ts, 10, 64)
		if err != nil || n < 0 {
			return nil, errBadRequest("invalid timeoutSeconds %q: want a non-negative number of seconds", ts)
		}
		if d := time.Duration(n) * time.Second; n > 0 && d < p.timeout {
			p.timeout = d
		}
	}
	return p, nil
}

// serveWatch streams newline-delimited JSON watch events, flushed one by
// one: ADDED for the current state when no resourceVersion is given, then
// every change after it, with BOOKMARKs when allowed. A resourceVersion
// older than the store's history gets one ERROR event carrying a 410
// Status, as kube-apiserver does; the client relists.
func (s *Server) serveWatch(w http.ResponseWriter, r *http.Request, rq *request) {
	p, err := s.parseWatch(r, rq)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), p.timeout)
	defer cancel()
	var initial []object
	if p.initial {
		if initial, p.start, err = s.initialState(ctx, rq, p); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	watcher, err := s.store.Watch(ctx, store.WatchOptions{Resource: rq.res.Resource(), Namespace: rq.namespace, Name: p.sel.name(), Revision: p.start})
	if err != nil && !errors.Is(err, store.ErrGone) {
		s.writeError(w, r, storeError(err, rq.res, ""))
		return
	}
	w.Header().Set("Content-Type", mediaJSON)
	w.Header().Set("Cache-Control", "no-cache, private")
	w.WriteHeader(http.StatusOK)
	st := &stream{w: w, rc: http.NewResponseController(w), enc: json.NewEncoder(w)}
	if st.rc.Flush() != nil {
		return
	}
	if err != nil {
		st.send("ERROR", &errGone(fmt.Sprintf("too old resource version: %d: the store no longer holds that history; list again and watch from the list's resourceVersion", p.start)).status)
		return
	}
	s.metrics.watches.Inc()
	defer s.metrics.watches.Dec()
	for _, obj := range initial {
		if !st.send("ADDED", obj) {
			return
		}
	}
	s.streamEvents(ctx, st, rq, p, watcher)
}

// initialState lists the current state for a watch without a
// resourceVersion and returns the objects that match and the revision.
func (s *Server) initialState(ctx context.Context, rq *request, p *watchParams) ([]object, uint64, error) {
	lr, err := s.store.List(ctx, store.ListOptions{ReadOptions: store.ReadOptions{Stale: p.stale}, Resource: rq.res.Resource(), Namespace: rq.namespace})
	if err != nil {
		return nil, 0, storeError(err, rq.res, "")
	}
	var out []object
	for _, o := range lr.Objects {
		obj, err := rq.res.decodeStored(o)
		if err != nil {
			return nil, 0, errInternal(err)
		}
		if p.sel.matches(obj) {
			out = append(out, obj)
		}
	}
	return out, lr.Revision, nil
}

// stream writes watch events and flushes each one.
type stream struct {
	w   http.ResponseWriter
	rc  *http.ResponseController
	enc *json.Encoder
}

func (st *stream) send(typ string, obj any) bool {
	if err := st.enc.Encode(watchEvent{Type: typ, Object: obj}); err != nil {
		return false
	}
	return st.rc.Flush() == nil
}
