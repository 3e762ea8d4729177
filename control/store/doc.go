// Package store is weir's replicated object store: hashicorp/raft with a
// raft-boltdb/v2 log and a bbolt state machine. It owns objects keyed by
// resource/namespace/name, revisions (the raft index of each write),
// transactions with preconditions, idempotent retries by request ID,
// linearizable and stale reads, lists at a past revision (paged in key
// order: ListOptions.Start and Limit, so a page costs O(page) and every page
// of one list reads the same revision), watches from a revision over a
// bounded history, snapshots and membership.
//
// Promises: an acknowledged write survives the loss of a minority of
// members and a kill -9 of any member; revisions only grow; a watch from
// revision N delivers every later matching event exactly once, in order, or
// fails with ErrGone (a *GoneError naming the oldest revision still
// served; lists at a revision older than that fail the same way); a Txn retried with the same ID is applied at most
// once. A watch or list at a revision not reached yet waits up to 3 s, then
// fails with ErrFutureRevision (2^64-1 does not wrap).
//
// Health: a member that cannot write its raft log or state (a full disk)
// retries the write rather than stop or skip, and says why; Ready and Lag
// fail while it cannot apply, or while it does not reach the leader's read
// index within LagWait, and its linearizable reads fail with ErrLagging
// ("member X is lagging: ...; cannot apply: <cause>"), which also matches
// ErrNoLeader. StaleWarning says, from local knowledge, why a stale read
// may be out of date.
//
// Security: the peer port speaks TLS 1.3 only, mutual TLS between member
// certificates from the cluster CA (Config.CA, or Config.CABundle with a
// CA rotation's previous CA also trusted and the cross-signed new CA
// after each leaf; peer.crt/peer.key in the data dir; renewed when another
// CA signs); Config.PeerRevoked refuses revoked member certificates on
// both sides of a handshake (fail closed). MemberCertificates shows what
// each member presents. The cluster secret only admits a new member
// through the join exchange, which also hands it the encryption config;
// RotateSecretAt replaces it on every member in two phases, the old one
// accepted until the second (secret.go, Config.SecretFile). Values of the
// resources that config covers are encrypted before raft and decrypted on
// the way out (control/encrypt); RotateEncryption re-keys every member.
// RotateTokenAt replaces the API token (Config.Token, written to
// Config.TokenFile) on every member: staged on all, then committed on all,
// withdrawn if any member cannot be reached (admintoken.go). CallAt runs
// an embedder's operation (Config.Ops) on the leader for a caller holding
// a member certificate.
// Every data file is 0600 in a 0700 dir, tightened at Open.
//
// Testing: storetest starts real members on loopback in temp dirs; the
// multi-process fault tests live in tests/controlplane.
package store
