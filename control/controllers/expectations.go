package controllers

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// expectationsTTL is how long unfulfilled expectations hold an owner back
// (kube-controller-manager's ExpectationsTimeout): a watch event that
// never comes does not block the owner forever.
const expectationsTTL = 5 * time.Minute

// expectations remember, per owner key, the pod creations and deletions a
// controller has issued but its informer has not shown yet, as
// kube-controller-manager's ReplicaSet and Job controllers do: an owner
// whose expectations are not met creates and deletes nothing, so that a
// stale cache never makes it create or delete pods twice. Safe for
// concurrent use (informer handlers fulfil, workers expect).
type expectations struct {
	mu sync.Mutex
	m  map[string]*expectation
}

type expectation struct {
	adds int
	dels map[types.UID]bool
	at   time.Time
}

func newExpectations() *expectations { return &expectations{m: map[string]*expectation{}} }

// expect records adds creations and the deletions of dels for key.
func (e *expectations) expect(key string, adds int, dels []types.UID, now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := &expectation{adds: adds, dels: map[types.UID]bool{}, at: now}
	for _, u := range dels {
		x.dels[u] = true
	}
	e.m[key] = x
}

// created is one creation for key seen (or given up).
func (e *expectations) created(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x := e.m[key]; x != nil && x.adds > 0 {
		x.adds--
	}
}

// deleted is the deletion of uid for key seen (or given up).
func (e *expectations) deleted(key string, uid types.UID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x := e.m[key]; x != nil {
		delete(x.dels, uid)
	}
}

// forget drops key's expectations (its owner is gone).
func (e *expectations) forget(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, key)
}

// satisfied reports whether key may create and delete again: nothing is
// pending, or what is pending is older than expectationsTTL.
func (e *expectations) satisfied(key string, now time.Time) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := e.m[key]
	return x == nil || (x.adds <= 0 && len(x.dels) == 0) || now.Sub(x.at) > expectationsTTL
}
