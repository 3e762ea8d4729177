// Package nodestream is the control plane's side of the node stream: the
// gRPC service (nodestreampb) through which every node agent registers and
// receives its desired state, pushed, never polled.
//
// # Protocol
//
//   - Register(node, addresses, capacity, kernel) creates or updates the
//     Node and assigns it a pod CIDR from the cluster CIDR (default
//     10.244.0.0/16, /24 per node). The claim is a bookkeeping key
//     _podcidrs/<cidr> written in the same Txn as the Node with a
//     MustNotExist condition, so concurrent registrations on any members
//     never share a CIDR. A key whose Node was deleted is free again: it is
//     reclaimed with conditions on the key's revision and on the old Node
//     still being absent.
//   - Watch: the agent sends Subscribe{node, versions per kind}. For each
//     kind (services, endpointslices, pods with spec.nodeName == node,
//     routes = other nodes' podCIDR -> InternalIP) the server sends a full
//     snapshot when the agent holds no version or the store no longer has
//     the history (ErrGone), else the deltas after the agent's version, then
//     ordered deltas fed by a store watch. Each message carries the kind, a
//     version (the store revision the kind is complete up to) and a nonce.
//     Kinds are versioned independently (like xDS resource types).
//   - The agent ACKs each message once applied or NACKs it with an error.
//     A NACK sets the Node condition WeirConfigApplied=False with the error
//     and the last good (acknowledged) version, and counts in
//     weir_nodestream_nacks_total; the next ACK sets it True again.
//   - Heartbeats on the stream refresh the Node's Ready condition, written at
//     most once per Config.HeartbeatWrite per node (write load).
//   - PodStatus reports replace the status of a pod bound to the node,
//     only if the stored pod has the report's UID (else dropped, logged at
//     debug). A report with removed set deletes the pod (a Txn conditioned
//     on the revision read) when it has a deletionTimestamp: the end of a
//     graceful deletion; without one (a pod the agent dropped after a
//     rebind) it is ignored.
//   - MirrorPod messages create, refresh, replace or delete the API mirror
//     of a static pod the node runs (mirror.go): only pods bound to the
//     sending node that carry the kubernetes.io/config.mirror annotation;
//     a stored pod that is not the node's mirror is never touched. The
//     mirror keeps the UID the agent gives it (its static pod's, so that
//     reports with that UID apply) and is owned by the Node; one with
//     another UID or a deletionTimestamp is deleted and created afresh.
//   - PodEvent messages (events.go) become core/v1 Events in the pod's
//     namespace (source weir-agent on the node, involvedObject the pod and
//     spec.containers{C}), only for a pod with the event's UID bound to the
//     sending node (else dropped, logged at debug). An Event is named
//     <pod>.<hash of pod UID, container, type, reason, message>: a repeat
//     within 10 minutes increments its count and lastTimestamp (the
//     kubelet's correlator), a later one replaces it. At most 50 events per
//     second per stream are written; beyond, they are dropped (warned).
//
// # Security
//
// Every RPC carries "authorization: Bearer <node token>". The transport is
// TLS 1.3 with a server certificate signed by the cluster CA, which
// EnsureCA creates once and keeps in the store (key _nodestream/ca), so any
// member can serve streams with a certificate agents verify against the
// same ca.crt.
//
// # Testing
//
//	go test ./control/nodestream/   # in-process store, server and stream clients, ~10 s
//	go generate ./control/nodestream/ && git diff --exit-code   # generated code is current
package nodestream
