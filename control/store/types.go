package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Key names one object: its resource (the plural, qualified with the API
// group for non-core groups, e.g. "pods", "deployments.apps"), its namespace
// ("" for cluster-scoped objects) and its name. Resources that start with an
// underscore are weir's own bookkeeping (IP and port allocations) and are
// never served by the API.
type Key struct {
	Resource  string
	Namespace string
	Name      string
}

func (k Key) String() string { return k.Resource + "/" + k.Namespace + "/" + k.Name }

// encode is the key's byte form in the objects bucket: resource, namespace
// and name joined by NUL so that prefix scans by resource or by
// resource+namespace are exact.
func (k Key) encode() []byte {
	return []byte(k.Resource + "\x00" + k.Namespace + "\x00" + k.Name)
}

func decodeKey(b []byte) (Key, error) {
	parts := strings.SplitN(string(b), "\x00", 3)
	if len(parts) != 3 {
		return Key{}, fmt.Errorf("store: malformed key %q", b)
	}
	return Key{Resource: parts[0], Namespace: parts[1], Name: parts[2]}, nil
}

// Object is one stored object. Value is opaque to the store (the API keeps
// JSON there); the store's revisions are the raft indexes of the writes.
type Object struct {
	Key            Key
	Value          []byte
	CreateRevision uint64 // revision of the write that created the object
	Revision       uint64 // revision of the last write (the resourceVersion)
}

// EventType is the kind of change an Event reports.
type EventType uint8

const (
	Added EventType = iota + 1
	Modified
	Deleted
)

func (t EventType) String() string {
	switch t {
	case Added:
		return "ADDED"
	case Modified:
		return "MODIFIED"
	case Deleted:
		return "DELETED"
	}
	return fmt.Sprintf("EventType(%d)", uint8(t))
}

// Event is one change at one revision. For Deleted, Object holds the last
// value and Object.Revision is the revision of the delete. Prev is the value
// before the change (nil for Added).
type Event struct {
	Type     EventType
	Object   Object
	Prev     *Object
	Revision uint64
}

// CondKind says what a Cond checks.
type CondKind uint8

const (
	// MustNotExist holds when the key is absent.
	MustNotExist CondKind = iota + 1
	// MustExist holds when the key is present (any revision).
	MustExist
	// RevisionIs holds when the key is present at exactly Revision.
	RevisionIs
)

// Cond is one precondition of a Txn.
type Cond struct {
	Kind     CondKind
	Key      Key
	Revision uint64
}

// OpKind says what an Op does.
type OpKind uint8

const (
	Put OpKind = iota + 1
	Delete
)

// Op is one write of a Txn.
type Op struct {
	Kind  OpKind
	Key   Key
	Value []byte // Put only
}

// Txn is an atomic write: when every Cond holds, every Op is applied at one
// new revision; otherwise nothing changes. ID makes the write idempotent:
// a Txn retried with the same ID (after a lost leader, say) is applied at
// most once and the retry gets the first result. Callers pass a fresh
// random ID per logical write.
type Txn struct {
	ID    string
	Conds []Cond
	Ops   []Op
}

// TxnResult is the outcome of a Txn. When Succeeded is false, FailedCond is
// the index of the first Cond that did not hold and Current holds that key's
// object (zero Object when absent). Objects has one entry per Op: the new
// object for Put, the deleted object (last value, Revision = this write's
// revision) for Delete.
type TxnResult struct {
	Revision   uint64
	Succeeded  bool
	FailedCond int
	Current    Object
	Objects    []Object
}

// ReadOptions tune a read. Reads are linearizable unless Stale is set, in
// which case the member answers from its local state without asking the
// leader (faster, possibly behind).
type ReadOptions struct {
	Stale bool
}

// ListOptions select the objects of a List. Namespace "" lists all
// namespaces. Revision 0 lists the latest state; a non-zero Revision lists
// the state exactly as it was at that revision (a *GoneError when older than
// the retained history, ErrFutureRevision when newer than the store).
//
// Objects come in key order (namespace, then name). Start and Limit page
// through them: the list begins at the first key not before
// {Resource, Start.Namespace, Start.Name} (Start's Resource is ignored) and
// holds at most Limit objects (0: no limit). A page costs O(Limit) reads
// plus, at a past revision, the retained events after that revision; pages
// read at the Revision of the first keep one consistent snapshot.
// CountRemaining asks for the number of objects after a full page (a walk
// of the remaining keys, without decoding them).
type ListOptions struct {
	ReadOptions
	Resource       string
	Namespace      string
	Revision       uint64
	Start          Key
	Limit          int
	CountRemaining bool
}

// ListResult is a consistent list at Revision. More says that objects
// follow the last one returned (only with a Limit); Remaining counts them
// when CountRemaining was asked for, else it is -1.
type ListResult struct {
	Objects   []Object
	Revision  uint64
	More      bool
	Remaining int64
}

// WatchOptions select the events of a Watch: every change to Resource (in
// Namespace, or all namespaces when ""; Name narrows to one object) with a
// revision greater than Revision. Revision 0 means "from now".
type WatchOptions struct {
	Resource  string
	Namespace string
	Name      string
	Revision  uint64
	// Batches: no Events channel; the caller waits on Watcher.Ready and
	// takes every queued event at once with Watcher.Take (one goroutine
	// and one wake-up per burst instead of per event).
	Batches bool
}

// Interface is what the API server and the controllers need from the store.
// *Store implements it.
type Interface interface {
	Txn(ctx context.Context, txn Txn) (TxnResult, error)
	Get(ctx context.Context, key Key, opts ReadOptions) (Object, error)
	List(ctx context.Context, opts ListOptions) (ListResult, error)
	// Watch delivers every matching event after opts.Revision exactly once,
	// in order, on the returned Watcher until ctx ends or the watcher falls
	// too far behind (then Err reports ErrWatcherTooSlow and the channel
	// closes). ErrGone means opts.Revision is older than the history kept:
	// list again and watch from the list's revision.
	Watch(ctx context.Context, opts WatchOptions) (*Watcher, error)
	// Revision is the latest revision applied on this member.
	Revision() uint64
}

var (
	ErrNotFound       = errors.New("store: object not found")
	ErrExists         = errors.New("store: object already exists")
	ErrConflict       = errors.New("store: revision conflict: the object was modified; read it again and retry")
	ErrGone           = errors.New("store: requested revision is older than the retained history; list again")
	ErrFutureRevision = errors.New("store: requested revision is newer than the store's revision")
	ErrNoLeader       = errors.New("store: no raft leader; the cluster has lost quorum or is electing, retry shortly")
	ErrWatcherTooSlow = errors.New("store: watcher fell too far behind; watch again from the last revision seen")
	ErrClosed         = errors.New("store: closed")
	ErrTooLarge       = errors.New("store: write too large")
)

// GoneError is the ErrGone of a list or watch at Revision: the retained
// history starts after Oldest, the oldest revision still served.
// errors.Is(err, ErrGone) holds.
type GoneError struct {
	Revision uint64
	Oldest   uint64
}

func (e *GoneError) Error() string {
	return fmt.Sprintf("%v: revision %d, oldest served %d", ErrGone, e.Revision, e.Oldest)
}

func (e *GoneError) Is(target error) bool { return target == ErrGone }

func gone(rev, floor uint64) error {
	oldest := uint64(0)
	if floor > 0 {
		oldest = floor - 1
	}
	return &GoneError{Revision: rev, Oldest: oldest}
}
