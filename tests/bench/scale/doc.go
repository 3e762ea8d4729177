// Package scale is `weir-bench scale`: weir at many Services, in a real
// `weir up` cluster (localcluster: one control member, 1 or 3 nodes, each
// a netns with its agent, dataplane and DNS server).
//
// Services (services*.go): N selector-less ClusterIP Services, every
// tenth with an EndpointSlice of 10 endpoints written by the benchmark, so
// that no pods are involved. The same objects go to a bare `weir server`
// (no agents) in the same run, and the apply rates are compared. With the
// cluster at N, each agent and member process is read idle (CPU from
// /proc/PID/stat, RSS from /proc/PID/status); then single EndpointSlice
// changes are timed from the write until every node's pinned lb_services
// map serves the new backend (dataplane.PinnedLookup, polled), and
// changes of a headless Service's slice until every node's DNS server
// answers with the new address. The agents' CPU per change is set beside
// the agents' own dataplane time (weir_dataplane_sync_duration_seconds,
// scraped from --metrics-addr inside each node netns) and beside
// Manager.Upsert measured in this process on a dataplane of its own
// loaded with N Services. Sizes grow in one cluster: each size applies
// only the Services it adds.
//
// Results replace the scale section of docs/benchmarks.md and
// docs/bench/scale.json. Needs root, like `weir up`.
//
// Agents (agents*.go, `weir-bench scale-agents`) measures what each connected
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
