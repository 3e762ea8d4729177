// Package scheduler is `weir-bench scheduler`: control/scheduler's pure
// filter+score core and its node Cache, without the API, placing 10,000
// pods onto 5,000 nodes held in memory, once scoring every node and once
// with kube-scheduler's adaptive sample (percentageOfNodesToScore).
//
// Results go to docs/benchmarks.md (section "scheduler", with the exact
// command) and docs/bench/scheduler.json. Timings never gate anything.
//
// Tests: `go test ./tests/bench/scheduler` runs the workload at a small
// size and checks every pod is placed and spread evenly.
package scheduler
