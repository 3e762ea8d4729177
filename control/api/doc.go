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
// Finalizers do not delay deletion. Namespace deletion is synchronous.
//
// Deletion is immediate, except for pods: a DELETE of a pod bound to a
// node and not in a terminal phase, with a grace period above zero
// (DeleteOptions.gracePeriodSeconds, else the pod's
// terminationGracePeriodSeconds, else 30 s), sets
// metadata.deletionTimestamp (now + grace) and deletionGracePeriodSeconds
// and answers 200 with the pod; the node's agent stops it and reports it
// removed, and control/nodestream deletes it then. A later DELETE may only
// shorten the grace; gracePeriodSeconds=0 removes the pod at once.
//
// Testing: `go test ./control/api/...` runs every test over real HTTP
// against a real single-member store (control/store/storetest).
package api
