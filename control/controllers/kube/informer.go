package kube

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Object is what an Informer caches: a k8s.io/api object pointer.
type Object interface {
	metav1.Object
}

// maxTombs bounds the tombstones kept between relists.
const maxTombs = 20000

// Informer caches every object of one kind, fed by list+watch. Cached
// objects are shared: callers must not modify them (DeepCopy first).
type Informer[P Object] struct {
	c      *Client
	kind   Kind
	newObj func() P
	notify func()
	log    *slog.Logger

	mu     sync.RWMutex
	items  map[string]P
	tombs  map[string]uint64 // key -> revision at or before which the object is known deleted
	rv     string
	synced bool
}

// NewInformer returns an informer of kind; notify (may be nil) is called
// after every change to the cache, outside any lock.
func NewInformer[P Object](c *Client, kind Kind, newObj func() P, notify func(), log *slog.Logger) *Informer[P] {
	if notify == nil {
		notify = func() {}
	}
	return &Informer[P]{c: c, kind: kind, newObj: newObj, notify: notify, log: log,
		items: map[string]P{}, tombs: map[string]uint64{}}
}

// Key is the cache key of namespace/name ("name" when cluster-scoped).
func Key(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "/" + name
}

func keyOf(o metav1.Object) string { return Key(o.GetNamespace(), o.GetName()) }

// Revision parses a resourceVersion (0 when malformed).
func Revision(o metav1.Object) uint64 {
	n, _ := strconv.ParseUint(o.GetResourceVersion(), 10, 64)
	return n
}

// Run lists and watches until ctx ends, relisting after 410 Gone or a
// broken stream, with back-off between failures.
func (i *Informer[P]) Run(ctx context.Context) {
	delay := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := i.listAndWatch(ctx)
		if ctx.Err() != nil {
			return
		}
		i.log.Debug("list+watch ended; relisting", "resource", i.kind.Resource, "error", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(delay*2, 5*time.Second)
	}
}

// listAndWatch lists, then watches from the list's revision, reopening the
// watch from the last revision seen when the server ends it. It returns on
// any error other than a clean end of stream.
func (i *Informer[P]) listAndWatch(ctx context.Context) error {
	raw, rv, err := i.c.listRaw(ctx, i.kind)
	if err != nil {
		return fmt.Errorf("list %s: %w", i.kind.Resource, err)
	}
	if err := i.replace(raw, rv); err != nil {
		return err
	}
	for {
		s, err := i.c.watch(ctx, i.kind, i.resourceVersion())
		if err != nil {
			return fmt.Errorf("watch %s: %w", i.kind.Resource, err)
		}
		err = i.consume(s)
		s.close()
		if !errors.Is(err, io.EOF) {
			return err
		}
	}
}

func (i *Informer[P]) consume(s *stream) error {
	for {
		ev, err := s.next()
		if err != nil {
			if apierrors.IsGone(err) || apierrors.IsResourceExpired(err) {
				return fmt.Errorf("watch %s: %w", i.kind.Resource, err)
			}
			return err
		}
		if err := i.apply(ev); err != nil {
			return err
		}
	}
}

func (i *Informer[P]) replace(raw []json.RawMessage, rv string) error {
	items := make(map[string]P, len(raw))
	for _, r := range raw {
		o := i.newObj()
		if err := json.Unmarshal(r, o); err != nil {
			return fmt.Errorf("decode %s list item: %w", i.kind.Resource, err)
		}
		items[keyOf(o)] = o
	}
	i.mu.Lock()
	i.items, i.tombs, i.rv, i.synced = items, map[string]uint64{}, rv, true
	i.mu.Unlock()
	i.notify()
	return nil
}

func (i *Informer[P]) apply(ev wireEvent) error {
	if ev.Type == "BOOKMARK" {
		var m struct {
			Metadata metav1.ObjectMeta `json:"metadata"`
		}
		if err := json.Unmarshal(ev.Object, &m); err == nil && m.Metadata.ResourceVersion != "" {
			i.mu.Lock()
			i.rv = m.Metadata.ResourceVersion
			i.mu.Unlock()
		}
		return nil
	}
	o := i.newObj()
	if err := json.Unmarshal(ev.Object, o); err != nil {
		return fmt.Errorf("decode %s %s event: %w", i.kind.Resource, ev.Type, err)
	}
	i.mu.Lock()
	i.rv = o.GetResourceVersion()
	if ev.Type == "DELETED" {
		i.removeLocked(keyOf(o), Revision(o))
	} else {
		i.putLocked(o)
	}
	i.mu.Unlock()
	i.notify()
	return nil
}

func (i *Informer[P]) putLocked(o P) bool {
	k, rev := keyOf(o), Revision(o)
	if t, ok := i.tombs[k]; ok && rev <= t {
		return false
	}
	if cur, ok := i.items[k]; ok && Revision(cur) >= rev {
		return false
	}
	i.items[k] = o
	return true
}

func (i *Informer[P]) removeLocked(k string, rev uint64) {
	delete(i.items, k)
	if len(i.tombs) >= maxTombs {
		i.tombs = map[string]uint64{}
	}
	if rev > i.tombs[k] {
		i.tombs[k] = rev
	}
}

func (i *Informer[P]) resourceVersion() string {
	i.mu.RLock()
	defer i.mu.RUnlock()
	return i.rv
}

// Observe records the result of the caller's own write (create or update)
// so that the cache reflects it before the watch delivers it. Older states
// than the cached one are ignored.
func (i *Informer[P]) Observe(o P) {
	i.mu.Lock()
	changed := i.putLocked(o)
	i.mu.Unlock()
	if changed {
		i.notify()
	}
}

// ObserveDeleted records the caller's own delete of o (its last state).
func (i *Informer[P]) ObserveDeleted(o P) {
	i.mu.Lock()
	i.removeLocked(keyOf(o), Revision(o))
	i.mu.Unlock()
	i.notify()
}

// Synced reports whether the first list has completed.
func (i *Informer[P]) Synced() bool {
	i.mu.RLock()
	defer i.mu.RUnlock()
	return i.synced
}

// Get returns the cached object ns/name.
func (i *Informer[P]) Get(ns, name string) (P, bool) {
	i.mu.RLock()
	defer i.mu.RUnlock()
	o, ok := i.items[Key(ns, name)]
	return o, ok
}

// List returns every cached object (shared; do not modify).
func (i *Informer[P]) List() []P {
	i.mu.RLock()
	defer i.mu.RUnlock()
	out := make([]P, 0, len(i.items))
	for _, o := range i.items {
		out = append(out, o)
	}
	return out
}
