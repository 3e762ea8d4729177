// Package api is weir's Kubernetes-shaped REST server: it serves the core
// (v1), apps/v1, batch/v1, discovery.k8s.io/v1 and storage.k8s.io/v1 kinds
// weir uses (storage.go: PersistentVolumes, claims and StorageClasses), with the
// paths, Status errors, list/watch semantics and discovery documents of
// kube-apiserver, over weir's replicated store.
//
// Serialization has one path (serializer.go): a runtime.Scheme with every
// k8s.io/api type and its CodecFactory read and write JSON, YAML and
// protobuf by Content-Type and Accept (apiserver's negotiation), answers
// convert to a server-side Table (tables/, kube-apiserver's columns) or
// PartialObjectMetadata(List) on request (a watch's events into one-row
// Tables, for kubectl get -w), unknown fields follow
// ?fieldValidation (Strict / Warn / Ignore), and /api and /apis also serve
// aggregated discovery (apidiscovery.k8s.io/v2).
//
// What it owns: request routing, authentication (auth.go: a client
// certificate from the cluster CA is its CN/O unless Config.Revocations
// names it or is not loaded yet (revocations.go), the cluster bearer
// token is weir:admin in system:masters, anything else a 401 Status),
// impersonation (impersonate.go: the Impersonate-* headers, allowed by
// the `impersonate` verb), authorization (authz.go: system:masters, then
// Config.Authorizer), RBAC's escalation check on Role, ClusterRole and
// binding writes (rbacadmit.go; validate_rbac.go validates those kinds),
// NodeRestriction admission for nodes' own writes
// (noderestriction.go: a node creates and updates only its own Node,
// without node-restriction.kubernetes.io/ labels or taint changes, and of
// pods only its own pods' status, its mirror pods and deletions of its
// pods), the node proxy to node APIs over mutual TLS (nodeproxy.go:
// Config.NodeClientCert, the node's serving certificate verified against
// its name), the reviews kubectl's `auth whoami` and `auth can-i` post
// (authreview.go: SelfSubjectReview, SelfSubjectAccessReview,
// SelfSubjectRulesReview, SubjectAccessReview and LocalSubjectAccessReview), decoding and
// encoding, defaulting, per-kind validation, ClusterIP and NodePort
// allocation (recorded in the store in the same transaction as the Service
// write, so allocation is race-free across members), namespace lifecycle,
// watch streaming and the weir-specific /weir/v1 endpoints (members,
// snapshot, revocations: control/revoke's list, read and written).
//
// Pod specs, in Pods and in the templates of Deployments, ReplicaSets and
// Jobs, are checked against one table (podsupport.go): every PodSpec
// field is supported or refused with a reason, a refused field set is a
// 422 naming it (Forbidden, or NotSupported for values weir lacks), so
// nothing is accepted and ignored; an update refuses only what the stored
// object did not already have. TestPodSupportCoversPodSpec fails when
// k8s.io/api has a field the table does not classify. docs/workloads.md
// is the user's view.
//
// What it promises: every object it returns carries the store revision of
// its last write as metadata.resourceVersion; every error is an
// *apierrors.StatusError built with apimachinery's constructors
// (status.go), so its code, reason, message and details are
// kube-apiserver's, written as a Status in the negotiated encoding with
// Retry-After from details.retryAfterSeconds; no request can panic the
// server; request bodies are bounded by Config.MaxBodyBytes.
//
// PATCH (patch.go) takes JSON patch, JSON merge patch, strategic merge
// patch (apimachinery's strategicpatch with the k8s.io/api type as
// schema) and server-side apply, with kube-apiserver's codes. Every
// create, update and patch records metadata.managedFields
// (fieldmanager.go, apimachinery's managedfields over the OpenAPI
// definitions in openapi/): an Update entry for ?fieldManager= or the
// User-Agent's product ("kubectl"), with subresource status or scale
// where the write was one; server-side apply records an Apply entry and
// answers 409 naming the other managers of fields it would change
// (force takes them). An apply to a missing object creates it.
//
// Deliberate simplifications, compared with kube-apiserver: the server's
// own writes (bootstrap, namespace termination) are recorded as
// "kube-apiserver" or not at all; bindings record none. Namespace deletion is synchronous (and ignores the
// finalizers of the objects in the namespace). Lists paginate (limit,
// continue), but with a selector a page may hold fewer than limit items
// (read.go stops after max(10*limit, 1000) objects); status.podIPs is
// accepted as a field selector but, as in kube-apiserver, never matches a
// non-empty value.
//
// Lists and watches (read.go, watch*.go) take kube's ListOptions, decoded,
// defaulted and validated by apimachinery with the WatchList feature on:
// resourceVersion "" is the latest state (linearizable), "0" any state
// (the member's own), N with resourceVersionMatch=Exact (or with a limit
// and no match) the state at N, otherwise a state not older than N (504
// "Too large resource version" when the store has not reached it); a
// revision older than the history is 410 Expired ("too old resource
// version: N (oldest)"), for a watch as an ERROR event. Pages of one list
// read the first page's revision; continue tokens are kube's. A watch with
// sendInitialEvents=true (the default for resourceVersion "" and "0")
// sends the state as ADDED events, then, with allowWatchBookmarks, a
// BOOKMARK annotated k8s.io/initial-events-end, then the changes.
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
// OpenAPI (openapi_handler.go): /openapi/v2 and /openapi/v3 (discovery,
// then one document per group-version at /openapi/v3/api/v1,
// /openapi/v3/apis/<group>/<version>, plus api, apis, apis/<group> and
// version) describe exactly the kinds, subresources and verbs this server
// routes, built by control/api/openapi once per process at the first New
// and served by kube-openapi's handlers (JSON or protobuf, ETags, ?hash=),
// behind the bearer token like every API path. kubectl explains fields
// from the v3 documents, and sends fieldValidation=Strict (skipping its
// own schema check) because each kind's PATCH lists that parameter.
//
// Pods' node-served subresources (nodeproxy.go, podlog.go, podexec.go):
// pods/log is fetched from the pod's node API and streamed back;
// pods/exec, attach and portforward are upgrade requests (WebSocket with
// GET, SPDY with POST) that are checked here (pod, container, streams)
// and then proxied as kube-apiserver proxies them to the kubelet, so
// kubectl's exec, cp, attach and port-forward work unchanged; the node
// API serves the streaming protocols themselves.
//
// Admission and audit: after authentication, auditMiddleware (audit.go)
// names each request (Audit-Id) and, at the policy's level (an
// audit.k8s.io/v1 Policy; only None and Metadata are ever written), logs
// one audit.k8s.io/v1 Event per request as a JSON line, to a file rotated
// by size; inflightMiddleware (inflight.go) caps concurrent reads and
// writes, with a per-identity share, answering 429 with Retry-After;
// long-running requests are not counted. /version shows the version only.
// /readyz fails while the member lags or cannot apply (health.go), and a
// stale read from such a member carries a 299 Warning header.
//
// Watch fan-out (watch_events.go): a store event is decoded once and
// encoded once per event type, media type and Table options, in a shared
// cache of recent frames, whatever the number of watchers; a stream
// flushes once per burst of queued events.
//
// ServiceAccount tokens (serviceaccount*.go, tokenrequest.go; on when
// Config.ServiceAccountTokens is set): POST serviceaccounts/NAME/token
// (authentication.k8s.io/v1 TokenRequest) signs a bound JWT with
// control/satoken; ServiceAccountAuthenticator, for Config.Authenticators,
// verifies one (signature, issuer, audience, expiry, and that the
// ServiceAccount and the bound Pod/Secret/Node still exist with the
// token's UIDs); pods being created get kube's ServiceAccount admission
// (the account must exist; the projected kube-api-access-XXXXX volume at
// /var/run/secrets/kubernetes.io/serviceaccount unless automount is off);
// /.well-known/openid-configuration and /openid/v1/jwks publish the
// issuer and its public key.
//
// Quotas and limit ranges (quota_admission.go, with control/quota's
// arithmetic): a pod being created gets its namespace's LimitRange
// defaults and is checked against their bounds (403, kube's messages);
// every create of a namespaced object, and a Service update that raises
// usage, is charged to the namespace's ResourceQuotas in its own Txn
// (each charged quota's status.used, conditioned on its revision: the
// race-free part, control/quota's doc.go); a ResourceQuota written with a
// new spec.hard gets its status.used recounted in the same write (kube
// leaves that to its controller and refuses writes meanwhile).
//
// Testing: `go test ./control/api/...` runs every test over real HTTP
// against a real single-member store (control/store/storetest);
// informer_test.go runs client-go's informers (WatchList, JSON) against it.
package api
