package ipam

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrBusy is returned when another process held the store's file lock for
// longer than the caller was willing to wait. CNI maps it to code 11.
var ErrBusy = errors.New("ipam: store is locked by another weir-cni process")

// DefaultLockTimeout bounds the wait for the store's file lock.
const DefaultLockTimeout = 20 * time.Second

// Bucket layout (schema 1):
//
//	owners: "containerID/ifname" -> address, as text ("10.244.1.7")
//	addrs:  address, 4 bytes big endian -> "containerID/ifname"
//	meta:   "schema" -> "1", "last" -> last handed-out address (4 bytes)
//
// owners and addrs are written in the same transaction and are each other's
// inverse; Check verifies it.
var (
	bucketOwners = []byte("owners")
	bucketAddrs  = []byte("addrs")
	bucketMeta   = []byte("meta")
	keySchema    = []byte("schema")
	keyLast      = []byte("last")
	schema       = []byte("1")
)

// Options tune Open.
type Options struct {
	// LockTimeout bounds the wait for another process's lock (default
	// DefaultLockTimeout). On expiry Open returns ErrBusy.
	LockTimeout time.Duration
}

// Store is an open allocation database. It holds an exclusive lock on the
// file until Close, so callers open it, do their transaction and close it.
type Store struct {
	db *bolt.DB
}

// Path returns the database file of a network below dir.
func Path(dir, network string) string { return filepath.Join(dir, network+".db") }

// Open opens (creating if needed) the store of network below dir.
func Open(dir, network string, opts Options) (*Store, error) {
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = DefaultLockTimeout
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("ipam: create data dir %s: %w", dir, err)
	}
	path := Path(dir, network)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.LockTimeout})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("%w: %s still locked after %s; retry, or find the process holding it (fuser %s)", ErrBusy, path, opts.LockTimeout, path)
	}
	if err != nil {
		return nil, fmt.Errorf("ipam: open %s: %w", path, err)
	}
	if err := db.Update(initBuckets); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("ipam: initialise %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

func initBuckets(tx *bolt.Tx) error {
	for _, b := range [][]byte{bucketOwners, bucketAddrs, bucketMeta} {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return err
		}
	}
	meta := tx.Bucket(bucketMeta)
	if v := meta.Get(keySchema); v != nil && string(v) != string(schema) {
		return fmt.Errorf("store has schema %q, this weir-cni understands %q: upgrade weir-cni", v, schema)
	}
	if meta.Get(keySchema) == nil {
		return meta.Put(keySchema, schema)
	}
	return nil
}

// Close releases the file lock. It is safe to call more than once.
func (s *Store) Close() error {
	if s == nil || s.db == nil {
		return nil
	}
	err := s.db.Close()
	s.db = nil
	return err
}

// With opens the store, runs fn and closes it again, so the lock is held
// only for fn.
func With(dir, network string, opts Options, fn func(*Store) error) error {
	s, err := Open(dir, network, opts)
	if err != nil {
		return err
	}
	ferr := fn(s)
	if cerr := s.Close(); cerr != nil && ferr == nil {
		ferr = fmt.Errorf("ipam: close store: %w", cerr)
	}
	return ferr
}
