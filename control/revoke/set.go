package revoke

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weirnet/weir/control/internal/relist"
	"github.com/weirnet/weir/control/store"
)

// ErrNotLoaded is Check's answer before the revocation list was read
// once: certificate authentication fails closed until it is.
var ErrNotLoaded = errors.New("revoke: the certificate revocation list is not loaded yet; retry shortly")

// RevokedError is Check's answer for a revoked certificate.
type RevokedError struct {
	Serial, Subject string
	Entry           Entry
}

func (e *RevokedError) Error() string {
	if e.Entry.User != "" {
		return fmt.Sprintf("certificate %s (%s) is revoked: every certificate of user %q issued until %s is", e.Serial, e.Subject, e.Entry.User, e.Entry.Revoked.Format(time.RFC3339))
	}
	return fmt.Sprintf("certificate %s (%s) is revoked since %s", e.Serial, e.Subject, e.Entry.Revoked.Format(time.RFC3339))
}

// Set is the revocation list in memory: listed once, then kept current by
// a store watch (relisted when the watch fails). Check costs two map
// lookups under a read lock.
type Set struct {
	st  store.Interface
	log *slog.Logger

	mu      sync.RWMutex
	serials map[string]Entry
	users   map[string]Entry
	// The node certificate records (serial ->) and the Nodes' create
	// revisions (name ->): a certificate tied to a Node that is gone is
	// refused as soon as this member applies the delete, before the
	// leader's controller writes its entry.
	nodeCerts map[string]nodeCert
	nodes     map[string]uint64
	loaded    atomic.Bool
	synced    atomic.Uint64 // every event up to this revision is applied
	changed   chan struct{} // closed and replaced at every change of synced
	added     chan struct{} // closed and replaced when entries are added
}

// NewSet is an empty, not yet loaded, set over st; Run loads it.
func NewSet(st store.Interface, log *slog.Logger) *Set {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Set{st: st, log: log, serials: map[string]Entry{}, users: map[string]Entry{},
		nodeCerts: map[string]nodeCert{}, nodes: map[string]uint64{}, changed: make(chan struct{}), added: make(chan struct{})}
}

// nodeCert is what the set keeps of a node certificate record.
type nodeCert struct {
	node    string
	nodeRev uint64 // the Node's CreateRevision when signed (0: none)
}

// Check is nil for a certificate that is not revoked, a *RevokedError for
// one that is, and ErrNotLoaded until the list was read.
func (s *Set) Check(c *x509.Certificate) error {
	if !s.loaded.Load() {
		return ErrNotLoaded
	}
	serial := SerialOf(c)
	s.mu.RLock()
	e, bySerial := s.serials[serial]
	u, byUser := s.users[c.Subject.CommonName]
	nc, isNode := s.nodeCerts[serial]
	cur := s.nodes[nc.node]
	s.mu.RUnlock()
	if bySerial && (e.Issuer == "" || e.Issuer == c.Issuer.String()) {
		return &RevokedError{Serial: serial, Subject: c.Subject.String(), Entry: e}
	}
	if byUser && c.NotBefore.Before(u.Revoked.Add(-Backdate)) {
		return &RevokedError{Serial: serial, Subject: c.Subject.String(), Entry: u}
	}
	if isNode && nc.nodeRev != 0 && cur != nc.nodeRev {
		return &RevokedError{Serial: serial, Subject: c.Subject.String(),
			Entry: Entry{Serial: serial, Subject: c.Subject.String(), Reason: "node deleted"}}
	}
	return nil
}

// Added is closed when entries are added to the set (or it is loaded
// again); call it again for the next addition. Holders of long-lived
// sessions check their certificate again when it fires.
func (s *Set) Added() <-chan struct{} {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.added
}

// Loaded says whether the list was read once.
func (s *Set) Loaded() bool { return s.loaded.Load() }

// WaitFor returns once every write up to rev is applied to the set, or
// ctx ends.
func (s *Set) WaitFor(ctx context.Context, rev uint64) error {
	for {
		s.mu.RLock()
		ch := s.changed
		s.mu.RUnlock()
		if s.synced.Load() >= rev {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// Run lists the revocation list and follows its watch until ctx ends,
// listing again after a short pause whenever the watch fails.
func (s *Set) Run(ctx context.Context) {
	relist.Run(ctx, 200*time.Millisecond, s.runOnce, func(err error) {
		if s.loaded.Load() {
			s.log.Warn("revocation list: relisting", "error", err)
		} else {
			s.log.Debug("revocation list: listing", "error", err)
		}
	})
}

func (s *Set) runOnce(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The first load is a linearizable read, so that a member that is
	// behind (restarted, joining) does not accept certificates revoked
	// meanwhile; later relists read this member's state, which the watch
	// then follows.
	lr, err := s.st.List(ctx, store.ListOptions{ReadOptions: store.ReadOptions{Stale: s.loaded.Load()}, Resource: Resource})
	if err != nil {
		return fmt.Errorf("list %s: %w", Resource, err)
	}
	lists := [][]store.Object{lr.Objects, nil, nil}
	ws := make([]*store.Watcher, 3)
	for i, res := range []string{Resource, NodeCertsResource, "nodes"} {
		if i > 0 {
			l, err := s.st.List(ctx, store.ListOptions{ReadOptions: store.ReadOptions{Stale: true}, Resource: res, Revision: lr.Revision})
			if err != nil {
				return fmt.Errorf("list %s: %w", res, err)
			}
			lists[i] = l.Objects
		}
		if ws[i], err = s.st.Watch(ctx, store.WatchOptions{Resource: res, Revision: lr.Revision}); err != nil {
			return fmt.Errorf("watch %s: %w", res, err)
		}
	}
	w := ws[0]
	s.mu.Lock()
	clear(s.serials)
	clear(s.users)
	clear(s.nodeCerts)
	clear(s.nodes)
	for _, objs := range lists {
		for _, o := range objs {
			s.apply(o, false)
		}
	}
	s.mu.Unlock()
	if !s.loaded.Swap(true) {
		s.log.Info("revocation list loaded", "entries", len(lr.Objects), "revision", lr.Revision)
	}
	s.advance(lr.Revision)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev, ok := <-w.Events():
			if !ok {
				return watchEnded(w)
			}
			s.mu.Lock()
			s.apply(ev.Object, ev.Type == store.Deleted)
			s.mu.Unlock()
			s.advance(ev.Revision)
		case ev, ok := <-ws[1].Events():
			if !ok {
				return watchEnded(ws[1])
			}
			s.mu.Lock()
			s.apply(ev.Object, ev.Type == store.Deleted)
			s.mu.Unlock()
		case ev, ok := <-ws[2].Events():
			if !ok {
				return watchEnded(ws[2])
			}
			s.mu.Lock()
			s.apply(ev.Object, ev.Type == store.Deleted)
			s.mu.Unlock()
		case <-tick.C:
			// The watcher's progress covers writes to other resources.
			// Read it first: once the channel is empty too, every event
			// up to it was applied here.
			if prog := w.Progress(); len(w.Events()) == 0 {
				s.advance(prog)
			}
		}
	}
}

func watchEnded(w *store.Watcher) error {
	if err := w.Err(); err != nil {
		return err
	}
	return errors.New("watch ended")
}

// apply puts or removes one entry, node certificate record or Node; s.mu
// is held. Synced follows the entries only (WaitFor waits for them).
func (s *Set) apply(o store.Object, deleted bool) {
	switch o.Key.Resource {
	case "nodes":
		if deleted {
			delete(s.nodes, o.Key.Name)
			s.fireAdded() // its certificates are refused from now
		} else {
			s.nodes[o.Key.Name] = o.CreateRevision
		}
		return
	case NodeCertsResource:
		// A record's deletion (revoked or pruned) is not applied: the
		// entry that replaces it may come later on its own watch.
		if !deleted {
			var rec NodeCert
			if err := json.Unmarshal(o.Value, &rec); err == nil {
				s.nodeCerts[o.Key.Name] = nodeCert{node: o.Key.Namespace, nodeRev: rec.NodeRevision}
			}
		}
		return
	}
	m := s.serials
	if o.Key.Namespace == nsUser {
		m = s.users
	}
	if deleted {
		delete(m, o.Key.Name)
		return
	}
	var e Entry
	if err := json.Unmarshal(o.Value, &e); err != nil {
		s.log.Error("revocation list: undecodable entry", "key", o.Key.String(), "error", err)
		return
	}
	m[o.Key.Name] = e
	s.fireAdded()
}

func (s *Set) fireAdded() {
	close(s.added)
	s.added = make(chan struct{})
}

func (s *Set) advance(rev uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rev <= s.synced.Load() {
		return
	}
	s.synced.Store(rev)
	close(s.changed)
	s.changed = make(chan struct{})
}
