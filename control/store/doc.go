// Package store is weir's replicated object store: hashicorp/raft with a
// raft-boltdb/v2 log and a bbolt state machine. It owns objects keyed by
// resource/namespace/name, revisions (the raft index of each write),
// transactions with preconditions, idempotent retries by request ID,
// linearizable and stale reads, lists at a past revision, watches from a
// revision over a bounded history, snapshots and membership.
//
// Promises: an acknowledged write survives the loss of a minority of
// members and a kill -9 of any member; revisions only grow; a watch from
// revision N delivers every later matching event exactly once, in order, or
// fails with ErrGone; a Txn retried with the same ID is applied at most
// once.
//
// Testing: storetest starts real members on loopback in temp dirs; the
// multi-process fault tests live in tests/controlplane.
package store
