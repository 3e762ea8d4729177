package api

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/endpoints/handlers/negotiation"

	"github.com/weirnet/weir/control/store"
)

// initialPage is how many objects a watch's initial state reads at a time.
const initialPage = 500

// watchParams are a watch request's options, decoded as for a list
// (listOptions) and read with kube-apiserver's watch semantics.
type watchParams struct {
	sel       *selector
	start     uint64 // watch the events after this revision (0: from now)
	initial   bool   // send the current state as ADDED events first
	stale     bool   // the initial state may be this member's
	min       uint64 // the initial state must not be older than this
	endMark   bool   // end the initial events with the initial-events-end BOOKMARK
	bookmarks bool
	timeout   time.Duration
}

// parseWatch: sendInitialEvents=true (which kube's defaulting also sets
// for resourceVersion "" and "0") sends the current state, at a revision
// not older than resourceVersion ("" the latest, linearizable; "0" this
// member's), then, with allowWatchBookmarks, a BOOKMARK annotated
// k8s.io/initial-events-end at the state's revision, then the changes.
// sendInitialEvents=false starts at resourceVersion, or now for "" and
// "0"; a resourceVersion alone (kube's legacy watch) starts there.
func (s *Server) parseWatch(r *http.Request, rq *request) (*watchParams, error) {
	opts, sel, err := listOptions(r, rq)
	if err != nil {
		return nil, err
	}
	p := &watchParams{sel: sel, bookmarks: opts.AllowWatchBookmarks, timeout: s.cfg.MaxWatchTimeout}
	var rv uint64
	if v := opts.ResourceVersion; v != "" && v != "0" {
		if rv, err = parseResourceVersion(v); err != nil {
			return nil, err
		}
	}
	if opts.SendInitialEvents != nil && *opts.SendInitialEvents {
		p.initial, p.min, p.endMark = true, rv, opts.AllowWatchBookmarks
		p.stale = opts.ResourceVersion == "0" || rv > 0 && s.store.Revision() >= rv
	} else {
		p.start = rv
	}
	if opts.TimeoutSeconds != nil {
		n := *opts.TimeoutSeconds
		if n < 0 {
			return nil, errBadRequest("invalid timeoutSeconds %d: want a non-negative number of seconds", n)
		}
		if d := time.Duration(n) * time.Second; n > 0 && d < p.timeout {
			p.timeout = d
		}
	}
	return p, nil
}

// serveWatch streams watch events, flushed one by one (writeEvent): the
// initial state when asked for, then every change after it, with BOOKMARKs
// when allowed, until timeoutSeconds (or the server's maximum) ends it
// cleanly. A resourceVersion older than the store's history gets one ERROR
// event carrying a 410 Expired Status, as kube-apiserver does; the client
// relists.
func (s *Server) serveWatch(w http.ResponseWriter, r *http.Request, rq *request) {
	p, err := s.parseWatch(r, rq)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), p.timeout)
	defer cancel()
	defer context.AfterFunc(s.watches, cancel)() // CloseWatches ends it too
	var init *initialState
	if p.initial {
		if init, err = s.firstPage(ctx, rq, p); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	watcher, err := s.store.Watch(ctx, store.WatchOptions{Resource: rq.res.Resource(), Namespace: rq.namespace, Name: p.sel.name(), Revision: p.start, Batches: true})
	if err != nil && !errors.Is(err, store.ErrGone) && !errors.Is(err, store.ErrFutureRevision) {
		s.writeError(w, r, storeError(err, rq.res, ""))
		return
	}
	st, err2 := s.newStream(w, r)
	if err2 != nil {
		s.writeError(w, r, err2)
		return
	}
	if err == nil { // counted before the client sees the answer
		s.metrics.watches.Inc()
		defer s.metrics.watches.Dec()
	}
	w.Header().Set("Cache-Control", "no-cache, private")
	w.WriteHeader(http.StatusOK)
	if st.rc.Flush() != nil {
		return
	}
	if errors.Is(err, store.ErrFutureRevision) {
		// As kube-apiserver's watch cache: after a bounded wait, one
		// ERROR event with the 504 "Too large resource version" Status.
		st.send("ERROR", wireStatus(errTooLargeRV(p.start, s.store.Revision())))
		return
	}
	if err != nil {
		st.send("ERROR", wireStatus(errTooOld(err)))
		return
	}
	if init != nil && !s.sendInitial(ctx, st, rq, p, init) {
		return
	}
	s.streamEvents(ctx, st, rq, p, watcher)
}

// initialState is the paged read of a watch's initial state.
type initialState struct {
	opts store.ListOptions
	page store.ListResult
	one  bool // the selector pins one name: the first page has it
}

// firstPage reads the first page of the initial state; its revision is
// where the watch starts.
func (s *Server) firstPage(ctx context.Context, rq *request, p *watchParams) (*initialState, error) {
	in := &initialState{opts: store.ListOptions{ReadOptions: store.ReadOptions{Stale: p.stale},
		Resource: rq.res.Resource(), Namespace: rq.namespace, Limit: initialPage}}
	if name := p.sel.name(); name != "" && (rq.namespace != "" || !rq.res.Namespaced) {
		in.opts.Start, in.opts.Limit, in.one = store.Key{Namespace: rq.namespace, Name: name}, 1, true
	}
	if p.stale {
		s.staleWarning(ctx)
	}
	var err error
	if in.page, err = s.store.List(ctx, in.opts); err != nil {
		return nil, storeError(err, rq.res, "")
	}
	if in.page.Revision < p.min {
		return nil, errTooLargeRV(p.min, in.page.Revision)
	}
	p.start = in.page.Revision
	in.opts.Revision, in.opts.Stale = in.page.Revision, true
	return in, nil
}

// sendInitial sends the initial state as ADDED events, page by page at the
// first page's revision, then the initial-events-end BOOKMARK when asked
// for. false: the stream is over.
func (s *Server) sendInitial(ctx context.Context, st *stream, rq *request, p *watchParams, in *initialState) bool {
	for {
		for _, o := range in.page.Objects {
			obj, err := rq.res.decodeStored(o)
			if err != nil {
				st.send("ERROR", wireStatus(errInternal(err)))
				return false
			}
			if p.sel.matches(obj) && st.writeEvent("ADDED", obj) != nil {
				return false
			}
		}
		if st.rc.Flush() != nil { // once per page of the initial state
			return false
		}
		if in.one || !in.page.More {
			break
		}
		last := in.page.Objects[len(in.page.Objects)-1].Key
		in.opts.Start = store.Key{Namespace: last.Namespace, Name: last.Name + "\x00"}
		var err error
		if in.page, err = s.store.List(ctx, in.opts); err != nil {
			se := storeError(err, rq.res, "")
			if errors.Is(err, store.ErrGone) {
				se = errTooOld(err)
			}
			st.send("ERROR", wireStatus(se))
			return false
		}
	}
	return !p.endMark || st.send("BOOKMARK", s.bookmark(rq.res, p.start, true))
}

// stream writes watch events in the negotiated media type and flushes
// each one.
type stream struct {
	s    *Server
	w    http.ResponseWriter
	rc   *http.ResponseController
	info runtime.SerializerInfo // the objects' encoding, with the events' framing
	// shape names the stream's encoding for the shared frame cache:
	// media type, and the Table options when it sends Tables.
	shape string
	// table is set when the client asked for Tables (kubectl get -w):
	// each event's object is then a one-row Table, as kube-apiserver
	// sends them.
	table *schema.GroupVersionKind
	req   *http.Request
	// deadline is the write deadline last set; it is moved only when less
	// than watchWriteTimeout - watchDeadlineSlack is left (setting it costs
	// more than writing a small event).
	deadline time.Time
}

// watchRestrictions: a watch's objects may be converted to Tables only.
type watchRestrictions struct{ outputRestrictions }

func (o watchRestrictions) AllowsMediaTypeTransform(mimeType, subType string, target *schema.GroupVersionKind) bool {
	return target == nil || target.Kind == "Table" && o.outputRestrictions.AllowsMediaTypeTransform(mimeType, subType, target)
}

// newStream negotiates a watch stream's encoding from Accept (JSON or
// protobuf, each with its framing, or JSON Tables, as kube-apiserver)
// and sets its Content-Type; 406 when the client accepts none.
func (s *Server) newStream(w http.ResponseWriter, r *http.Request) (*stream, error) {
	opts, ok := negotiation.NegotiateMediaTypeOptions(r.Header.Get("Accept"), s.codecs.factory.SupportedMediaTypes(), watchRestrictions{outputRestrictions{transforms: true}})
	info := opts.Accepted
	if !ok || info.StreamSerializer == nil {
		return nil, errNotAcceptable(r.Header.Get("Accept"))
	}
	ct := info.MediaType
	if ct != runtime.ContentTypeJSON {
		ct += ";stream=watch"
	}
	w.Header().Set("Content-Type", ct)
	st := &stream{s: s, w: w, rc: http.NewResponseController(w), info: info, table: opts.Convert, req: r, shape: info.MediaType}
	if st.table != nil {
		q := r.URL.Query()
		st.shape += ";table=" + st.table.String() + ";includeObject=" + q.Get("includeObject") + ";noHeaders=" + q.Get("noHeaders")
	}
	return st, nil
}

// watchWriteTimeout bounds each write of a watch event: a client that
// stops reading is cut instead of holding its connection forever (the
// HTTP server lifts its own write deadline for long-running requests).
const watchWriteTimeout = time.Minute

// watchDeadlineSlack: a stream's write deadline is between
// watchWriteTimeout - watchDeadlineSlack and watchWriteTimeout away.
const watchDeadlineSlack = 10 * time.Second

// extendDeadline keeps the stream's write deadline watchWriteTimeout away,
// give or take watchDeadlineSlack.
func (st *stream) extendDeadline() {
	now := time.Now()
	if st.deadline.Sub(now) > watchWriteTimeout-watchDeadlineSlack {
		return
	}
	st.deadline = now.Add(watchWriteTimeout)
	_ = st.rc.SetWriteDeadline(st.deadline)
}

func (st *stream) send(typ string, obj runtime.Object) bool {
	var buf bytes.Buffer
	if err := st.encodeEvent(&buf, typ, obj); err != nil {
		return false
	}
	return st.sendFrame(buf.Bytes())
}

// sendFrame writes one encoded event and flushes it, within
// watchWriteTimeout.
func (st *stream) sendFrame(frame []byte) bool { return st.writeFrame(frame, true) }

// writeFrame writes one encoded event within watchWriteTimeout, and
// flushes when asked.
func (st *stream) writeFrame(frame []byte, flush bool) bool {
	st.extendDeadline()
	if _, err := st.w.Write(frame); err != nil {
		return false
	}
	return !flush || st.rc.Flush() == nil
}

// writeEvent encodes one event onto the stream without flushing (the
// initial state flushes once a page).
func (st *stream) writeEvent(typ string, obj runtime.Object) error {
	st.extendDeadline()
	return st.encodeEvent(st.w, typ, obj)
}

// encodeEvent encodes one watch event to w: the object in the stream's
// media type, wrapped in a metav1.WatchEvent written by the stream
// serializer through the framer. It is the only place that knows the
// wire format.
func (st *stream) encodeEvent(w io.Writer, typ string, obj runtime.Object) error {
	if st.table != nil && typ != "ERROR" {
		var err error
		if obj, err = st.asTable(typ, obj); err != nil {
			return err
		}
	}
	raw, err := st.s.encode(st.info, false, obj)
	if err != nil {
		return err
	}
	ev := &metav1.WatchEvent{Type: typ, Object: runtime.RawExtension{Raw: raw}}
	return st.info.StreamSerializer.Serializer.Encode(ev, st.info.StreamSerializer.Framer.NewFrameWriter(w))
}

// asTable is an event's object as a Table; a bookmark is an empty Table
// carrying its resourceVersion.
func (st *stream) asTable(typ string, obj runtime.Object) (runtime.Object, error) {
	if typ == "BOOKMARK" {
		a, err := meta.Accessor(obj)
		if err != nil {
			return nil, err
		}
		t := &metav1.Table{ListMeta: metav1.ListMeta{ResourceVersion: a.GetResourceVersion()}}
		t.SetGroupVersionKind(*st.table)
		return t, nil
	}
	return st.s.transform(st.req, obj, *st.table)
}
