// Package member runs one control-plane member: it opens the replicated
// store (bootstrapping or joining), serves the Kubernetes-shaped API on its
// listen address over HTTPS only, keeps the member's secrets (cluster
// secret, API token) in its data dir with mode 0600, and shuts down
// gracefully (leadership handed over, API drained) when its context ends.
//
// TLS (tls.go): the cluster CA lives in the replicated store
// (nodestream.EnsureCA: the first member that asks creates it). A member
// that has just bootstrapped or joined returns from Start once it knows
// the CA; it keeps a copy (ca.crt, ca.key 0600) so that after a restart it
// serves at once, before any leader exists (probes answer). Its serving
// certificate (one year, made at start, again after a CA change) is signed by the CA for its bound
// address (every local address when bound to 0.0.0.0), 127.0.0.1,
// localhost, the `kubernetes` Service's ClusterIP (first address of the
// service CIDR) and kubernetes.default.svc[.cluster.local]. TLS 1.2+,
// HTTP/2; client certificates are requested, not required, and verified
// by the API (control/api auth.go). The member follows the store's CA
// (caLoop, every second from its own state): a CA rotation (`weir certs
// rotate-ca`, OpRotateCA on the leader, carotation.go) rewrites ca.crt as
// the bundle (ca-cross.crt during the transition), reissues its serving
// and client certificates, renews its peer certificate and restarts the
// leader's loops with new identities; finishing is refused while a
// member or a node still uses a certificate of the previous CA. The HTTP server (serve.go,
// ServerOptions) has header, read, write and idle timeouts, lifted for
// long-running requests (api.IsLongRunning) and for a request's read once
// its body is in; it caps open connections in total and per client
// address, dropping the oldest never-answered connection to admit a new
// one at the cap; it passes the in-flight limits and the audit log
// (--audit-log-path, --audit-policy-file) to the API.
//
// Identities and authorization (identity.go): the API authorizes with a
// union of authorizers: the node authorizer (control/nodeauth, its graph
// fed by the store's watch of pods) first, then control/rbac's
// authorizer, whose index follows this member's store.
// On becoming leader the member reconciles the bootstrap RBAC policy with
// the cluster token (system:masters), then runs the controllers as
// system:kube-controller-manager and the scheduler as
// system:kube-scheduler, each with a client certificate it signs with the
// cluster CA at the start of the term, so that they hold only what their
// bootstrap roles give; the leader's own admin client reads the cluster
// token at each request, so `weir token rotate-admin` (control/store's
// RotateTokenAt) replaces it without a restart. The member runs
// OpRotateServiceAccountKey (`weir serviceaccounts rotate-key`) on the
// leader for callers with a member certificate (serviceaccounts.go).
// IssueUserCert signs user certificates with the data dir's CA (`weir
// kubeconfig --user`). Each member keeps the certificate revocation list
// in memory (revoke.go, control/revoke) for its API and node stream; the
// leader runs its controller (a deleted Node's certificates are revoked,
// expired entries pruned).
//
// Nodes (nodestream.go): the node stream serves agents over mutual TLS
// (control/nodestream); the member calls node APIs with its own client
// certificate weir:apiserver-kubelet-client (issued from the CA, renewed
// daily).
//
// Peers: the store signs this member's peer certificate (and those of
// joining members) with the CA the member serves, or its data dir's copy
// (Config.CABundle of control/store); a new member gets its certificate
// by joining. Peers' member certificates are checked against the
// revocation list in this member's state (revoke.CheckLocal).
//
// Data dir layout (0700, every file 0600, tightened at start): raft.db
// (raft log, raft-boltdb/v2), state.db (bbolt state machine), snapshots/
// (raft snapshots), cluster-secret (and cluster-secret.previous during a
// secret rotation), token, ca.crt and ca.key (and ca-cross.crt during a CA
// rotation), peer.crt and peer.key (member certificate),
// encryption-config.yaml (keys for Secrets at rest).
package member
