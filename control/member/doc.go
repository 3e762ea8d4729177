// Package member runs one control-plane member: it opens the replicated
// store (bootstrapping or joining), serves the Kubernetes-shaped API on its
// listen address, keeps the member's secrets (cluster secret, API token) in
// its data dir with mode 0600, and shuts down gracefully (leadership handed
// over, API drained) when its context ends.
//
// Data dir layout: raft.db (raft log, raft-boltdb/v2), state.db (bbolt state
// machine), snapshots/ (raft snapshots), cluster-secret and token (0600).
package member
