// Package api is weir's Kubernetes-shaped REST server: it serves the core
// (v1), apps/v1, batch/v1 and discovery.k8s.io/v1 kinds weir uses, with the
// paths, JSON/YAML bodies, Status errors, list/watch semantics and
// discovery documents of kube-apiserver, over weir's replicated store.
//
// What it owns: request routing, bearer-token authentication, decoding and
// encoding, defaulting, per-kind validation, ClusterIP and NodePort
// allocation (recorded in the store in the same transaction as the Service
// write, so allocation is race-free across members), namespace lifecycle,
// watch streaming and the weir-specific /weir/v1 endpoints (members,
// snapshot).
//
// What it promises: every object it returns carries the store revision of
// its last write as metadata.resourceVersion; every error is a
// metav1.Status with the HTTP code kube-apiserver would use; no request
// can panic the server; request bodies are bounded by Config.MaxBodyBytes.
//
// Deliberate simplifications, compared with kube-apiserver: PATCH accepts
// JSON merge patch, and treats strategic merge patch as JSON merge patch
// (lists are replaced, not merged by key); JSON patch and server-side apply
// are refused with 415. Lists ignore limit/continue and return every item.
// Namespace deletion is synchronous (and ignores the finalizers of the
// objects in the namespace).
//
// Finalizers, as in Kubernetes (finalize.go): a DELETE of an object with
// metadata.finalizers sets metadata.deletionTimestamp (now) and
// deletionGracePeriodSeconds 0 and answers 200 with the object; any update
// (PUT, PATCH, status) that leaves such an object with no finalizers
// deletes it, in the same Txn conditioned on the revision read. Clients
// can neither set nor clear deletionTimestamp, nor add finalizers to an
// object being deleted (422). DeleteOptions.propagationPolicy (body, or
// ?propagationPolicy=) Foreground adds the finalizer "foregroundDeletion",
// Orphan adds "orphan" (each replacing the other), Background, the
// default for every kind, adds none and drops both; the legacy
// orphanDependents maps to Orphan / Background; anything else is a 400.
// control/controllers' garbage collector removes the two GC finalizers.
//
// Deletion is otherwise immediate, except for pods: a DELETE of a pod bound to a
// node and not in a terminal phase, with a grace period above zero
// (DeleteOptions.gracePeriodSeconds, else the pod's
// terminationGracePeriodSeconds, else 30 s), sets
// metadata.deletionTimestamp (now + grace) and deletionGracePeriodSeconds
// and answers 200 with the pod; the node's agent stops it and reports it
// removed, and control/nodestream deletes it then. A later DELETE may only
// shorten the grace; gracePeriodSeconds=0 removes the pod at once. With
// finalizers, the two combine: a pod's deletion waits for both its agent
// (whose removal report then only sets the grace to 0) and the removal
// of its last finalizer.
//
// Testing: `go test ./control/api/...` runs every test over real HTTP
// against a real single-member store (control/store/storetest).
package api
