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
//     Per-agent cost is kept flat: each pod and Node version is decoded
//     once per member for all streams (convcache.go), each Resource is
//     encoded once per member and its bytes shared by every stream that
//     sends it, behind a per-stream header (encode.go, the server's gRPC
//     codec), store watches are Batches watchers (no goroutine or buffer
//     of their own), and connections keep small gRPC buffers.
//   - The agent ACKs each message once applied or NACKs it with an error.
//     A NACK sets the Node condition WeirConfigApplied=False with the error
//     and the last good (acknowledged) version, and counts in
//     weir_nodestream_nacks_total; the next ACK sets it True again.
//   - Heartbeats on the stream renew the node's Lease (lease.go):
//     kube-node-lease/NAME, coordination.k8s.io/v1, holderIdentity NAME,
//     leaseDurationSeconds Config.LeaseDuration (40 s), owned by the Node;
//     renewTime is written at most once per Config.LeaseRenew (10 s) per
//     node and when the stream opens, as one conditioned Put without a
//     read. The Node is written only when its status changes (as kubelet's
//     node status update vs report frequency): a renewal finds the Node
//     not Ready (the node lifecycle controller turned it Unknown) and sets
//     Ready True; Register writes nothing when the node is unchanged. The
//     node lifecycle controller reads the Lease's renewTime for liveness.
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
// The transport is TLS 1.3 with a server certificate signed by the
// cluster CA (EnsureCA creates it once and keeps it in the store, key
// _nodestream/ca). Every RPC is made by a node: the server asks for a
// client certificate the cluster CA signed with CN system:node:NAME, O
// system:nodes, and Register, Watch and everything on the stream act for
// that NAME only. Registering or subscribing as another node, reporting
// status or events for a pod bound to another node, or asking for another
// node's certificate is refused with PermissionDenied, logged ("refused a
// request for another node") and counted in weir_nodestream_refused_total;
// on a Watch it ends the stream. With Config.Revoked (control/revoke), a
// revoked node certificate, or any while the list is not loaded, is
// Unauthenticated (logged with serial and subject), and an open stream
// ends so when its certificate is revoked (Config.RevocationsAdded).
//
// CA rotation (tls.go, cachange.go): RotateCA stores a new CA that signs
// from then on, with the old CA still trusted (CA.PreviousPEM, in
// CA.Pool and CA.BundlePEM) and the new CA cross-signed by the old one
// (CA.CrossPEM) following every leaf, so that holders of only the old CA
// still verify; FinishCARotation drops the old CA. With Config.CurrentCA
// the server follows the CA in force: client certificates verify against
// its bundle, it signs with it, hands its bundle to nodes
// (CertificateResponse.ca_pem), and closes every agent connection when it
// changes so that agents reconnect and renew.
//
// A new node gets its certificate with RequestCertificate (bootstrap.go),
// like kubelet TLS bootstrapping: authenticated by a bootstrap token
// (kubeadm's ID.SECRET, a bootstrap.kubernetes.io/token Secret in
// kube-system with expiration and usage-bootstrap-authentication), it
// sends a CSR for exactly CN system:node:NAME, O system:nodes. The first
// key to ask binds the name (_nodeidentity/NAME holds the SHA-256 of its
// public key); while the Node exists a bootstrap with another key is
// refused. Every certificate signed is recorded first
// (revoke.RecordNodeCert) so that deleting the Node revokes it. The node
// renews with its current certificate (any new key, its
// own name only). Register's node API serving certificate names the node
// and its registered addresses, never loopback, unspecified or link-local
// addresses nor a control member's (Config.Members).
//
// # Testing
//
//	go test ./control/nodestream/   # in-process store, server and stream clients, ~10 s
//	go generate ./control/nodestream/ && git diff --exit-code   # generated code is current
package nodestream
