// Package controllers runs weir's controllers on the raft leader only
// (control/member starts them when the member becomes leader and cancels
// and waits for them when it stops being leader).
//
// It owns, each as a pure planner plus a thin loop:
//   - ReplicaSet (PlanReplicaSet): pods from the template with a
//     controlling ownerReference, scale-down of unscheduled / pending / not
//     ready / newest first, status replicas / ready / available.
//   - Deployment (PlanDeployment): one ReplicaSet per pod-template-hash,
//     RollingUpdate within maxSurge / maxUnavailable driven by the
//     ReplicaSets' available pods, Recreate, the revision annotation,
//     the change-cause annotation copied to the current ReplicaSet,
//     revisionHistoryLimit, status and the Available / Progressing
//     conditions (ProgressDeadlineExceeded after progressDeadlineSeconds
//     without progress).
//   - EndpointSlice and Endpoints (PlanEndpointSlices, PlanEndpoints): for
//     Services with a selector; addresses are pod IPs with ready / serving
//     / terminating, named target ports resolved per pod, nodeName; slices
//     <service>-<hash> labelled kubernetes.io/service-name.
//   - Node lifecycle (PlanNode): Ready -> Unknown after NodeGracePeriod
//     without a heartbeat, node.kubernetes.io/unreachable and not-ready
//     taints, eviction (delete) of pods after their tolerationSeconds
//     (EvictionTimeout when they carry none); on a node that is not Ready,
//     force deletion (grace 0) of terminating pods once their
//     deletionTimestamp plus grace has passed, since no agent is there to
//     report them removed;
//     force deletion of pods bound to a node that no longer exists.
//     Terminating pods do not count as active for ReplicaSets, Deployments
//     and Jobs.
//   - Job (PlanJob): completions, parallelism, backoffLimit,
//     activeDeadlineSeconds, status and Complete / Failed.
//   - Namespace: the default ServiceAccount in every namespace.
//   - Garbage collection (Orphans): background deletion of dependents
//     whose owners are all gone (confirmed with a live read first); and
//     (PlanFinalizer) owners being deleted with a GC finalizer set by the
//     API's propagationPolicy: "foregroundDeletion" deletes the owner's
//     dependents with foreground propagation themselves (a Deployment's
//     pods go before its ReplicaSets) and removes the finalizer once no
//     dependent is left (weir waits for every dependent, not only
//     blockOwnerDeletion ones); "orphan" removes the dependents'
//     ownerReferences to the owner, then the finalizer. The API deletes
//     the owner when its last finalizer goes. ReplicaSets, Deployments
//     and Jobs being deleted create (and scale) nothing, and only update
//     their status.
//
// Every loop reads the shared list+watch caches (package kube), writes
// through the API (create, update, status, delete with a UID
// precondition), records its own writes into the caches so the next round
// sees them, and emits core/v1 Events. Loops wake on any cache change and
// every Resync for time-based decisions; time comes in as an argument.
//
// Tests: `go test ./control/controllers/...` (planners as table tests;
// each controller against a real store + API over httptest, the test
// acting as the kubelet through the status subresource).
package controllers
