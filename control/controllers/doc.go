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
//     without a heartbeat (the later of the node's Lease renewTime in
//     kube-node-lease and its Ready condition's lastHeartbeatTime), node.kubernetes.io/unreachable and not-ready
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
//   - DaemonSet (PlanDaemonSet): a pod per eligible node (node selector,
//     required node affinity, taints against the template's tolerations
//     plus kube's daemon tolerations), pinned by a metadata.name node
//     affinity term for the scheduler to bind; pods leave nodes that stop
//     matching; failed and duplicate pods are replaced; RollingUpdate by
//     controller-revision-hash within maxUnavailable, or OnDelete; status
//     counts; a ControllerRevision per template (PlanDaemonSetHistory),
//     renumbered on rollback, pruned to revisionHistoryLimit. A node
//     change enqueues every DaemonSet.
//   - StatefulSet (PlanStatefulSet): pods <set>-<ordinal> with
//     hostname and subdomain (serviceName), created from the current
//     revision below the RollingUpdate partition and from the update
//     revision at or above it; OrderedReady one ordinal at a time (n
//     waits for n-1 Running and Ready), Parallel all at once; scale-down
//     highest ordinal first; failed pods deleted and recreated under
//     their name; RollingUpdate replaces pods at or above the partition
//     highest first, one at a time; OnDelete waits; claims
//     <template>-<set>-<ordinal> made (live Get, Create) before their
//     pod, whenScaled Delete removing those of scaled-away ordinals; a
//     ControllerRevision per template (PlanStatefulSetHistory); no
//     expectations (fixed names: a stale cache ends in AlreadyExists or
//     NotFound).
//   - CronJob (PlanCronJob): the Job <name>-<minutes> for the latest
//     unmet schedule time (robfig/cron, timeZone), startingDeadlineSeconds,
//     concurrencyPolicy, suspend, history limits, status active /
//     lastScheduleTime / lastSuccessfulTime; each CronJob is looked at
//     again at its next schedule time.
//   - Disruption (PlanDisruption): a PodDisruptionBudget's status as
//     kube's disruption controller computes it (expectedPods from the
//     scale of the pods' controllers, or the pods for an integer
//     minAvailable; desired and current healthy pods; disruptionsAllowed;
//     the DisruptionAllowed condition), written with the resourceVersion
//     read so it never undoes an eviction the API approved meanwhile;
//     status.disruptedPods entries expire after
//     DisruptionDeletionTimeout. Node evictions go through the eviction
//     API (pods/eviction), so budgets hold for them: a refused one is
//     retried next round with an EvictionBlocked event.
//   - Namespace: the default ServiceAccount in every namespace.
//   - ClusterRole aggregation (AggregateRules): the rules of a ClusterRole
//     with an aggregationRule are those of every other ClusterRole its
//     label selectors match (view into edit into admin), as kube's
//     clusterrole-aggregation controller computes them.
//   - Root CA publisher (rootca.go, with Config.RootCA): the
//     kube-root-ca.crt ConfigMap (ca.crt: the cluster CA) in every
//     namespace, put back when changed or deleted; pods' projected
//     ServiceAccount volumes read it. Its informer caches only ConfigMaps
//     of that name (a field selector).
//   - PersistentVolume binder and local-path provisioner (pvbinder.go,
//     localpath.go): a claim binds to the smallest Available volume of
//     its class that fits, or, for class provisioner weir.dev/local-path
//     once the scheduler selected a node, to a hostPath volume
//     pvc-<claim uid> it creates under Config.LocalPathDir with node
//     affinity to that node; volumes whose claim is gone turn Released
//     and are deleted (Delete) or kept (Retain). It creates the default
//     StorageClass local-path when missing.
//   - ResourceQuota (resourcequota.go; per namespace): status.hard from
//     spec.hard and status.used recounted with control/quota's Recount
//     from live lists (quotas first, then each counted kind once, as
//     metadata where only the number matters), written with the
//     quota's resourceVersion so a recount never undoes a charge the API
//     made meanwhile. A namespace with quotas is recounted on any quota
//     change, on pod and Service changes that lower usage, on deletions
//     of the other informer kinds, and every QuotaResync (default 10s),
//     which is how ConfigMaps, Secrets and other kinds without an
//     informer here are released.
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
// Each controller is a client-go typed rate-limiting work queue of keys
// (an owner's namespace/name, a Service's, a node's name, the garbage
// collector's Kind/namespace/name) with workers that reconcile one key at
// a time. Informer event handlers on the leader term's shared informer
// factory (package kube; one cache per kind, shared with the scheduler)
// enqueue only the keys a change affects: a pod its controlling
// ReplicaSet or Job, the Services selecting it and its node; a ReplicaSet
// its Deployment; a deleted owner its dependents (owner-UID index). A
// reconcile reads listers and indexes, writes through the clientset
// (create, update, status, delete with a UID precondition) and emits
// core/v1 Events. A failed reconcile retries the key with back-off; time-
// based decisions requeue the key after Resync (and every node is looked
// at every NodeGracePeriod/8, 5 s at most and Resync at least, as kube's
// node monitor does); the informers' 5-minute
// resync replays every key as a safety net. Time comes in as an argument.
//
// A stale cache never doubles a write: the ReplicaSet, Job and DaemonSet
// controllers keep expectations of the pods they created and deleted (as
// kube's do) and create or delete nothing more until the informer has
// shown them;
// the other controllers write objects with deterministic names and
// updates conditional on the resourceVersion read (AlreadyExists and
// Conflict are retried).
//
// Tests: `go test ./control/controllers/...` (planners as table tests;
// each controller against a real store + API over httptest, the test
// acting as the kubelet through the status subresource;
// TestPodChangeReconcilesOnlyItsKeys counts the keys one pod change
// reconciles among 200 Services via Config.OnReconcile).
package controllers
