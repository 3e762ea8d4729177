// Package api is `weir-bench api`: the API server's read path measured the
// way clients use it, side by side in one run.
//
// It starts one `weir server` of this build and one of a baseline build
// (by default the last commit before the API moved to apimachinery's
// codecs, whose answers were hand-encoded JSON), loads the same objects
// into both, and measures, per server and client encoding (JSON and
// protobuf for this build; JSON for the baseline, which spoke nothing
// else):
//   - list: a full list of every loaded Pod, decoded by the client;
//   - get: one Pod by name;
//   - watch fan-out: W watchers of the Pods' namespace, U updates; the
//     time from each write's answer until every watcher has decoded it.
//
// Then, against this build only, write throughput (writes.go): concurrent
// merge patches of small ConfigMaps with no watcher, then with 2,000
// watchers (--write-watchers) in three shapes: kubelet-shaped (one
// ConfigMap each, 100 nodes (--write-nodes) of 20 watches, each node's
// watches streams of one HTTP/2 connection, as client-go carries a
// kubelet's watches), one ConfigMap each over HTTP/1.1 connections of
// their own, and all of them each over HTTP/1.1; --only-writes runs just
// this, in its own section ("api-writes") and api-writes.json, whose
// text says from the figures which shapes keep writes within 2x of the
// no-watcher rate. --write-profile DIR saves a server CPU profile of each
// row with watchers.
//
// Results go to a section of docs/benchmarks.md and docs/bench/api.json.
// Times are never gated on: compare the ratios of one run.
package api
