package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	bolt "go.etcd.io/bbolt"
)

var (
	bucketMeta     = []byte("meta")
	bucketObjects  = []byte("objects")
	bucketEvents   = []byte("events")
	bucketRequests = []byte("requests")
	bucketReqByRev = []byte("requests_by_rev")
	keyApplied     = []byte("applied")
	keyCompacted   = []byte("compacted")
)

// fsm is the raft state machine: a bbolt database holding the objects, the
// bounded event history (for watches and lists at a past revision), the
// request IDs already applied (for idempotent retries) and the index of the
// last applied raft entry. It is written only by raft's apply goroutine;
// readers share it through db(). A batch of raft entries is applied in one
// bbolt transaction (one fsync).
type fsm struct {
	path      string
	retention uint64 // revisions of history and request IDs kept
	hub       *hub

	mu      sync.RWMutex // guards bdb against Restore swapping it
	bdb     *bolt.DB
	closing sync.WaitGroup // databases replaced by Restore, closing once their readers finish

	amu         sync.Mutex // guards applied, floor and applyErr
	applied     uint64     // last applied raft index (also persisted)
	floor       uint64     // oldest revision still answerable (history start)
	applyErr    error      // why the last batch could not be written (nil: it was)
	appliedCond *sync.Cond

	stop <-chan struct{} // closed when the store closes: a failing apply stops retrying
}

func openFSM(path string, retention uint64, h *hub) (*fsm, error) {
	f := &fsm{path: path, retention: retention, hub: h}
	f.appliedCond = sync.NewCond(&f.amu)
	if err := f.open(); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *fsm) open() error {
	db, err := bolt.Open(f.path, 0o600, boltOptions(64<<20))
	if err != nil {
		return fmt.Errorf("open state db %s: %w (is another weir server using this data dir?)", f.path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketMeta, bucketObjects, bucketEvents, bucketRequests, bucketReqByRev} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		m := tx.Bucket(bucketMeta)
		f.amu.Lock()
		f.applied = getU64(m, keyApplied)
		f.floor = getU64(m, keyCompacted)
		f.amu.Unlock()
		return nil
	})
	if err != nil {
		db.Close()
		return fmt.Errorf("init state db: %w", err)
	}
	f.bdb = db
	return nil
}

func getU64(b *bolt.Bucket, k []byte) uint64 {
	v := b.Get(k)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

// view runs fn in a read transaction on the current database.
func (f *fsm) view(fn func(tx *bolt.Tx) error) error {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.bdb == nil {
		return ErrClosed
	}
	return f.bdb.View(fn)
}

func (f *fsm) appliedIndex() (applied, floor uint64) {
	f.amu.Lock()
	defer f.amu.Unlock()
	return f.applied, f.floor
}

// waitApplied blocks until the state includes index, or timeout.
func (f *fsm) waitApplied(index uint64, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	t := time.AfterFunc(timeout, func() {
		f.amu.Lock()
		f.appliedCond.Broadcast()
		f.amu.Unlock()
	})
	defer t.Stop()
	f.amu.Lock()
	defer f.amu.Unlock()
	for f.applied < index {
		if time.Now().After(deadline) {
			return fmt.Errorf("store: member has applied %d, waiting for %d: %w", f.applied, index, ErrNoLeader)
		}
		f.appliedCond.Wait()
	}
	return nil
}

// Apply implements raft.FSM for a single entry.
func (f *fsm) Apply(l *raft.Log) interface{} { return f.ApplyBatch([]*raft.Log{l})[0] }

// ApplyBatch implements raft.BatchingFSM: one bbolt transaction per batch.
// When the state db cannot be written (disk full, I/O error) the batch is
// retried, with backoff, until it succeeds or the store closes: raft has
// no way to skip an entry, and a member that skipped one would diverge.
// Meanwhile applyFailure names the cause (readiness reports it) and the
// member falls behind.
func (f *fsm) ApplyBatch(logs []*raft.Log) []interface{} {
	backoff := 50 * time.Millisecond
	for {
		out, events, last, applied, floor, err := f.applyBatchTx(logs)
		if err == nil {
			f.setApplyFailure(nil)
			f.amu.Lock()
			if last > f.applied {
				f.applied = last
			}
			f.floor = floor
			f.appliedCond.Broadcast()
			f.amu.Unlock()
			if testHookBeforePublish != nil {
				testHookBeforePublish(last)
			}
			if len(events) > 0 || last > applied {
				f.hub.publish(events, last)
			}
			return out
		}
		f.setApplyFailure(fmt.Errorf("state db write at index %d: %w", last, err))
		select {
		case <-f.stop:
			for i := range out {
				out[i] = fmt.Errorf("store: closed before index %d could be applied: %w", logs[i].Index, err)
			}
			return out
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// applyBatchTx applies logs in one bbolt transaction.
func (f *fsm) applyBatchTx(logs []*raft.Log) (out []interface{}, events []Event, last, applied, floor uint64, err error) {
	out = make([]interface{}, len(logs))
	applied, floor = f.appliedIndex()
	// Only raft's apply goroutine writes and restores, so the read lock
	// here just keeps bdb stable; readers run concurrently in their own
	// bbolt read transactions.
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.bdb == nil {
		return out, nil, 0, applied, floor, ErrClosed
	}
	err = f.bdb.Update(func(tx *bolt.Tx) error {
		for i, l := range logs {
			last = l.Index
			if l.Type != raft.LogCommand || l.Index <= applied {
				continue
			}
			res, evs, err := applyCommand(tx, l.Index, l.Data)
			if err != nil {
				out[i] = err
				continue
			}
			out[i] = res
			events = append(events, evs...)
		}
		if last > applied {
			if err := tx.Bucket(bucketMeta).Put(keyApplied, u64(last)); err != nil {
				return err
			}
			var cerr error
			floor, cerr = f.compact(tx, last, floor)
			return cerr
		}
		return nil
	})
	return out, events, last, applied, floor, err
}

// setApplyFailure records why the state db cannot be written (nil: it
// can again).
func (f *fsm) setApplyFailure(err error) {
	f.amu.Lock()
	f.applyErr = err
	f.amu.Unlock()
}

// applyFailure is why the last apply failed, nil when it succeeded.
func (f *fsm) applyFailure() error {
	f.amu.Lock()
	defer f.amu.Unlock()
	return f.applyErr
}

// compact drops history and request IDs older than the retention window,
// in steps of an eighth of the window so that most batches do no work. It
// returns the new floor: the oldest revision a watch or list can start at.
func (f *fsm) compact(tx *bolt.Tx, rev, floor uint64) (uint64, error) {
	if rev <= f.retention || rev-f.retention <= floor+f.retention/8 {
		return floor, nil
	}
	newFloor := rev - f.retention
	if err := deleteBelow(tx.Bucket(bucketEvents), newFloor, nil); err != nil {
		return floor, err
	}
	reqs := tx.Bucket(bucketRequests)
	if err := deleteBelow(tx.Bucket(bucketReqByRev), newFloor, func(id []byte) error { return reqs.Delete(id) }); err != nil {
		return floor, err
	}
	return newFloor, tx.Bucket(bucketMeta).Put(keyCompacted, u64(newFloor))
}

// deleteBelow deletes keys (8-byte big-endian revision prefix) below rev,
// calling also(value) for each.
func deleteBelow(b *bolt.Bucket, rev uint64, also func(v []byte) error) error {
	c := b.Cursor()
	limit := u64(rev)
	for k, v := c.First(); k != nil && bytes.Compare(k[:8], limit) < 0; k, v = c.First() {
		if also != nil {
			if err := also(append([]byte(nil), v...)); err != nil {
				return err
			}
		}
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// Snapshot implements raft.FSM: a read transaction pinned at the current
// applied index, streamed with bbolt's Tx.WriteTo in Persist.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	tx, err := f.bdb.Begin(false)
	if err != nil {
		return nil, fmt.Errorf("begin snapshot tx: %w", err)
	}
	return &fsmSnapshot{tx: tx}, nil
}

type fsmSnapshot struct{ tx *bolt.Tx }

func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := s.tx.WriteTo(sink); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("write snapshot: %w", err)
	}
	return sink.Close()
}

func (s *fsmSnapshot) Release() { _ = s.tx.Rollback() }

// Restore implements raft.FSM: replace the state db with the snapshot. Open
// watchers are ended (they re-watch from their last revision).
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	tmp := f.path + ".restore"
	if err := writeFileSync(tmp, rc); err != nil {
		return fmt.Errorf("restore snapshot: %w", err)
	}
	// The old database is not closed here: a raft snapshot may still be
	// persisting from a read transaction on it, and bbolt's Close waits for
	// that transaction, while raft's snapshot goroutine may in turn wait for
	// the main loop, which waits for this Restore. Rename the new file over
	// the old one (the old stays open on its unlinked inode), open it, swap,
	// and close the old one once its readers are done.
	f.mu.Lock()
	old := f.bdb
	err := os.Rename(tmp, f.path)
	if err == nil {
		err = f.open() // sets f.bdb to the new database on success
	}
	if err == nil && old != nil {
		f.closing.Add(1)
		go func() {
			defer f.closing.Done()
			old.Close()
		}()
	}
	f.mu.Unlock()
	f.amu.Lock()
	f.appliedCond.Broadcast()
	applied := f.applied
	f.amu.Unlock()
	if err != nil {
		return fmt.Errorf("restore snapshot: %w", err)
	}
	f.hub.reset(applied)
	return nil
}

func writeFileSync(path string, r io.Reader) error {
	out, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, r); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func (f *fsm) close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.bdb == nil {
		return nil
	}
	err := f.bdb.Close()
	f.bdb = nil
	f.closing.Wait()
	return err
}
