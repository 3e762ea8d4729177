// Package scale holds `weir-bench scale` benchmarks. The agents part
// (agents*.go, `weir-bench scale-agents`) measures what each connected
// node costs a control member, at the sizes Kubernetes supports (5,000
// nodes per cluster): one `weir server` serves N emulated agents, the
// push benchmark's in-process node-stream clients (tests/bench/push)
// over real mutual-TLS gRPC streams with real node certificates, each
// registering, subscribing, applying and ACKing every message, and
// heartbeating every 2 s as the agent does.
//
// Figures per N: the member's CPU (utime+stime from /proc) over an idle
// window, in cores and per agent (and, for scale, idle over 5 s before
// the agents connected); its RSS growth from before the agents
// connected, per agent; store writes per second while idle (the growth
// of the store revision, which is the raft index, so every write counts:
// Lease renewals, Node status, anything else); and the time from an
// EndpointSlice write to the last agent's ACK of a version holding it,
// p50/p99/max. Each is checked against the goals at 5,000
// agents, scaled linearly to N for the per-agent ones (writes <= N/10
// per second, idle CPU <= N/5000 cores, RSS <= N/5000 GiB) and as is for
// the latency (p99 <= 1 s); the verdicts are computed from the data.
package scale
