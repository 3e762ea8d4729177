// Package pods is `weir-bench pods`: pod startup latency on real nodes.
//
// It starts a local cluster with localcluster (an underlay netns,
// one `weir server` member, a private containerd and two `weir agent
// --run-pods` in their own netns and cgroups, every name prefixed
// weirbench), with the test image already imported, then creates N bare
// pods of the test server (default 100) at a fixed rate through the API
// and watches them.
//
// Figures, per pod, from the client's clock: create (before the POST) ->
// the first watch event showing the pod Running and Ready with an IP,
// p50/p99/max; and where the time goes: create -> bound (the scheduler),
// bound -> the first status with the pod IP (node stream push, sandbox,
// weir-cni, containerd task start, status report), IP -> Ready.
//
// Results replace the pods section of docs/benchmarks.md and
// docs/bench/pods.json. Goal (issue 5): p50 <= 1 s, p99 <= 2 s over 100
// pods on 2 nodes; the report says whether it was met, it never fails on
// a time.
package pods
