// Package scheduler places pods on nodes. It runs on the raft leader only
// (started and stopped by control/member as leadership comes and goes).
//
// It owns:
//   - Schedule(pod, nodes, pods): the pure decision. Filters, in
//     kube-scheduler's order and wording: NodeUnschedulable, NodeName,
//     nodeSelector + required node affinity, taints/tolerations
//     (NoSchedule, NoExecute), resource fit (cpu, memory,
//     ephemeral-storage requests vs allocatable; pod count), host port
//     conflicts, required pod anti-affinity (the pod's own terms and the
//     placed pods' terms, by topology key), required pod affinity
//     (interpod.go, with kube's first-pod-of-a-self-affine-group rule),
//     DoNotSchedule topology spread (spread.go: skew against the smallest
//     domain, minDomains, node inclusion policies). Scores:
//     least-allocated + balanced cpu/memory + preferred node affinity
//     (normalized) + 2x preferred pod (anti-)affinity both ways (min-max
//     normalized) + 2x ScheduleAnyway spread (kube's log-weighted counts),
//     highest wins, ties to the first node by name. A failure is a *FitError whose
//     message is kube-scheduler's "0/3 nodes are available: ...".
//   - Cache: NodeInfos kept between decisions, with optional adaptive
//     sampling (kube-scheduler's percentageOfNodesToScore); the benchmark
//     (tests/bench/scheduler) drives it.
//   - Scheduler: the loop. Pods and nodes come from the leader term's
//     shared client-go informers (control/controllers/kube, the same
//     caches the controllers read); a change that can change a decision
//     (a pending pod, a pod finishing or going away, any node) wakes the
//     loop, which rebuilds the cache from the listers, schedules pending
//     pods oldest first, binds them through the clientset (pods/binding)
//     and assumes them, and marks the others
//     PodScheduled=False/Unschedulable with the FitError message through
//     the status subresource (conditional on the resourceVersion read).
//     Unschedulable pods are retried on the next such change.
//   - Volume binding (volumes.go): a bound claim's PersistentVolume node
//     affinity joins the pod's required node affinity; an unbound claim
//     of an Immediate class, or a missing claim, keeps the pod pending
//     with kube's message; an unbound WaitForFirstConsumer claim gets
//     volume.kubernetes.io/selected-node before the pod is bound.
//
// Promises: the decision is deterministic (same inputs, same node); no
// goroutine outlives Run's context.
//
// Tests: `go test ./control/scheduler` (table tests of Schedule, the loop
// against a real store + API over httptest). Benchmark: `weir-bench
// scheduler` (tests/bench/scheduler).
package scheduler
