// Package controlplane holds the multi-process acceptance tests of the
// weir control plane: three `weir server` processes on loopback (started by
// tests/controlplane/cluster), killed with SIGKILL, paused with SIGSTOP and
// restarted while clients write, read and watch through the HTTP API.
//
// What is checked: a new leader serves writes within 3 s of a leader's
// kill -9; every acknowledged write is readable afterwards with its
// revision; revisions strictly increase, never repeat and respect real-time
// order; a killed member catches up on restart, also through a snapshot
// after the leader truncated its log; a watch open across a leader change
// misses and repeats nothing; `weir snapshot save` + `weir snapshot
// restore` round-trip every object; and a concurrent get/put/cas history
// under faults is linearizable (github.com/anishathalye/porcupine).
//
// Run: go test ./tests/controlplane/ (builds bin/weir into a temp dir, or
// uses $WEIR_BIN/weir as `make test` sets it). -short skips the package.
// WEIR_TEST_KEEP=1 keeps the member data dirs and logs of a failed run.
package controlplane
