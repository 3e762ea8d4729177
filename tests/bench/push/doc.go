// Package push is `weir-bench push`: how fast one change reaches every
// node over the node stream (control/nodestream).
//
// A 3-member control plane (`weir server` processes with --node-listen on
// loopback) serves N agents, in-process node-stream clients spread over
// the members: each registers, subscribes, decodes every message into a
// node.State (what the real agent does before it programs the kernel) and
// ACKs it, with heartbeats on the same stream. No kernel programming: this
// measures the stream.
//
// Figures: time from an EndpointSlice write (PUT through the API of a
// member, round-robin) to the last agent's ACK of a version that holds it,
// p50/p99 over single changes; for bursts of concurrent writes, the time
// from the first write to the last ACK of the final version; the control
// plane's CPU (utime+stime of the member processes, /proc/PID/stat) idle
// with N agents heartbeating and per delivered change, and its memory
// (VmRSS) per connected agent.
//
// Results replace the push section of docs/benchmarks.md and
// docs/bench/push.json.
package push
