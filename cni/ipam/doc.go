// Package ipam is weir-cni's address allocator: one bbolt file per CNI
// network (<dataDir>/<network>.db) holding which (container ID, interface)
// owns which address of the node's pod CIDR.
//
// What it owns: the address pool of one IPv4 pod CIDR. The network address,
// the first address (the pods' gateway, held by the host side of every veth)
// and the broadcast address are never handed out.
//
// What it promises:
//   - An allocation is committed to disk (bbolt transaction, fsync) before
//     Allocate returns, so a caller that reports an address has recorded it.
//   - Allocate is idempotent per Key: asking again for the same (container ID,
//     interface) returns the address it already holds.
//   - No address is ever owned twice. Every decision is taken inside one
//     bbolt write transaction while the process holds bbolt's exclusive file
//     lock, so concurrent plugin processes serialise; a process killed at any
//     point either committed its whole transaction or nothing of it.
//   - Nothing leaks for good: an allocation whose container is gone (a
//     plugin killed after the commit, a runtime that never called DEL) is
//     released by GC, which keeps only the attachments the runtime names.
//   - A lock held longer than the caller's timeout yields ErrBusy (CNI code
//     11, try again later); a full pool yields ErrExhausted.
//
// The allocation decision itself is a pure function (Assign, Next) over a
// read-only View of the store, tested without disk; the Store wraps it in
// transactions. Tests: `go test ./cni/ipam/` (no root needed), including
// concurrent and kill -9 runs of real child processes and golden dumps in
// testdata/ (refresh with `go test ./cni/ipam/ -update`).
package ipam
