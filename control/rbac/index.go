package rbac

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/weirnet/weir/control/internal/relist"
	"github.com/weirnet/weir/control/store"
)

// The store resources of the four RBAC kinds (plural.group, as
// vocab/manifest names them).
const (
	resRoles               = "roles.rbac.authorization.k8s.io"
	resRoleBindings        = "rolebindings.rbac.authorization.k8s.io"
	resClusterRoles        = "clusterroles.rbac.authorization.k8s.io"
	resClusterRoleBindings = "clusterrolebindings.rbac.authorization.k8s.io"
)

var indexedResources = []string{resRoles, resRoleBindings, resClusterRoles, resClusterRoleBindings}

// DefaultSyncTimeout bounds how long a decision waits for the index to
// catch up with the store before deciding on what it has.
const DefaultSyncTimeout = 2 * time.Second

// Index holds every Role, ClusterRole, RoleBinding and ClusterRoleBinding
// in memory, fed by one store watch per kind. Run feeds it; the
// Authorizer reads it. WaitFor makes a decision consistent with the
// writes this member applied before it.
type Index struct {
	st  store.Interface
	log *slog.Logger

	mu                  sync.RWMutex
	roles               map[string]map[string]*rbacv1.Role        // namespace -> name
	roleBindings        map[string]map[string]*rbacv1.RoleBinding // namespace -> name
	clusterRoles        map[string]*rbacv1.ClusterRole
	clusterRoleBindings map[string]*rbacv1.ClusterRoleBinding

	synced  atomic.Uint64 // every event up to this revision is applied
	syncReq chan chan struct{}
	// watchers of the current generation (nil while relisting).
	wmu      sync.Mutex
	watchers []*store.Watcher
}

// NewIndex is an empty index over st; Run fills it.
func NewIndex(st store.Interface, log *slog.Logger) *Index {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Index{st: st, log: log, syncReq: make(chan chan struct{}),
		roles: map[string]map[string]*rbacv1.Role{}, roleBindings: map[string]map[string]*rbacv1.RoleBinding{},
		clusterRoles: map[string]*rbacv1.ClusterRole{}, clusterRoleBindings: map[string]*rbacv1.ClusterRoleBinding{}}
}

// Run lists the four kinds and follows their watches until ctx ends,
// listing again (after a short pause) whenever a watch fails.
func (ix *Index) Run(ctx context.Context) {
	relist.Run(ctx, 200*time.Millisecond, ix.runOnce, func(err error) {
		if ix.synced.Load() == 0 {
			ix.log.Debug("rbac index: listing", "error", err)
		} else {
			ix.log.Warn("rbac index: relisting", "error", err)
		}
	})
}

// runOnce lists at one revision, then applies the watches' events until
// one of them ends.
func (ix *Index) runOnce(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lists := make([][]store.Object, len(indexedResources))
	var rev uint64
	for i, res := range indexedResources {
		// A stale (local) read: the index follows this member's state,
		// and serves before a leader is known.
		lr, err := ix.st.List(ctx, store.ListOptions{ReadOptions: store.ReadOptions{Stale: true}, Resource: res, Revision: rev})
		if err != nil {
			return fmt.Errorf("list %s: %w", res, err)
		}
		rev, lists[i] = lr.Revision, lr.Objects
	}
	ws := make([]*store.Watcher, len(indexedResources))
	for i, res := range indexedResources {
		w, err := ix.st.Watch(ctx, store.WatchOptions{Resource: res, Revision: rev})
		if err != nil {
			return fmt.Errorf("watch %s: %w", res, err)
		}
		ws[i] = w
	}
	ix.mu.Lock()
	clear(ix.roles)
	clear(ix.roleBindings)
	clear(ix.clusterRoles)
	clear(ix.clusterRoleBindings)
	for _, objs := range lists {
		for _, o := range objs {
			ix.apply(o, false)
		}
	}
	ix.mu.Unlock()
	ix.advance(rev)
	ix.wmu.Lock()
	ix.watchers = ws
	ix.wmu.Unlock()
	defer func() {
		ix.wmu.Lock()
		ix.watchers = nil
		ix.wmu.Unlock()
	}()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev, ok := <-ws[0].Events():
			if !ok {
				return watchEnded(ws[0])
			}
			ix.applyEvent(ev)
		case ev, ok := <-ws[1].Events():
			if !ok {
				return watchEnded(ws[1])
			}
			ix.applyEvent(ev)
		case ev, ok := <-ws[2].Events():
			if !ok {
				return watchEnded(ws[2])
			}
			ix.applyEvent(ev)
		case ev, ok := <-ws[3].Events():
			if !ok {
				return watchEnded(ws[3])
			}
			ix.applyEvent(ev)
		case done := <-ix.syncReq:
			// Every event up to the watchers' progress, read before
			// draining, is on a channel or applied: drain them.
			prog := minProgress(ws)
			if err := ix.drain(ws); err != nil {
				close(done)
				return err
			}
			ix.advance(prog)
			close(done)
		}
	}
}

func watchEnded(w *store.Watcher) error {
	if err := w.Err(); err != nil {
		return err
	}
	return errors.New("watch ended")
}

// drain applies the events already on the watchers' channels.
func (ix *Index) drain(ws []*store.Watcher) error {
	for _, w := range ws {
		for more := true; more; {
			select {
			case ev, ok := <-w.Events():
				if !ok {
					return watchEnded(w)
				}
				ix.applyEvent(ev)
			default:
				more = false
			}
		}
	}
	return nil
}

func minProgress(ws []*store.Watcher) uint64 {
	var m uint64
	for i, w := range ws {
		if p := w.Progress(); i == 0 || p < m {
			m = p
		}
	}
	return m
}

func (ix *Index) advance(rev uint64) {
	for {
		cur := ix.synced.Load()
		if rev <= cur || ix.synced.CompareAndSwap(cur, rev) {
			return
		}
	}
}

func (ix *Index) applyEvent(ev store.Event) {
	ix.mu.Lock()
	ix.apply(ev.Object, ev.Type == store.Deleted)
	ix.mu.Unlock()
}

// apply puts (or removes) one stored object; ix.mu is held. An object that
// does not decode is dropped (and logged): the API validated it on write.
func (ix *Index) apply(o store.Object, deleted bool) {
	k := o.Key
	decode := func(into any) bool {
		if err := json.Unmarshal(o.Value, into); err != nil {
			ix.log.Error("rbac index: undecodable object", "key", k.String(), "error", err)
			return false
		}
		return true
	}
	switch k.Resource {
	case resRoles:
		if deleted {
			delete(ix.roles[k.Namespace], k.Name)
			return
		}
		var r rbacv1.Role
		if decode(&r) {
			if ix.roles[k.Namespace] == nil {
				ix.roles[k.Namespace] = map[string]*rbacv1.Role{}
			}
			ix.roles[k.Namespace][k.Name] = &r
		}
	case resRoleBindings:
		if deleted {
			delete(ix.roleBindings[k.Namespace], k.Name)
			return
		}
		var b rbacv1.RoleBinding
		if decode(&b) {
			if ix.roleBindings[k.Namespace] == nil {
				ix.roleBindings[k.Namespace] = map[string]*rbacv1.RoleBinding{}
			}
			ix.roleBindings[k.Namespace][k.Name] = &b
		}
	case resClusterRoles:
		if deleted {
			delete(ix.clusterRoles, k.Name)
			return
		}
		var r rbacv1.ClusterRole
		if decode(&r) {
			ix.clusterRoles[k.Name] = &r
		}
	case resClusterRoleBindings:
		if deleted {
			delete(ix.clusterRoleBindings, k.Name)
			return
		}
		var b rbacv1.ClusterRoleBinding
		if decode(&b) {
			ix.clusterRoleBindings[k.Name] = &b
		}
	}
}

// Synced is the revision up to which the index has applied every event.
func (ix *Index) Synced() uint64 { return ix.synced.Load() }

// WaitFor waits until the index has applied every write up to rev, or
// until ctx ends; false when it gave up.
func (ix *Index) WaitFor(ctx context.Context, rev uint64) bool {
	if ix.synced.Load() >= rev {
		return true
	}
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	for {
		ix.wmu.Lock()
		ws := ix.watchers
		ix.wmu.Unlock()
		if ws != nil && minProgress(ws) >= rev {
			done := make(chan struct{})
			select {
			case ix.syncReq <- done:
				select {
				case <-done:
				case <-ctx.Done():
					return false
				}
			case <-ctx.Done():
				return false
			}
		}
		if ix.synced.Load() >= rev {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
}
