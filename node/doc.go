// Package node is the weir node agent: it registers the node with the
// control plane, follows the node stream (control/nodestream) and programs
// the kernel from it, change by change: the eBPF service load balancer
// (Manager.Upsert/Delete of the Services a message touches, an
// EndpointSlice counting for its kubernetes.io/service-name; a full Sync
// only at the first apply and on snapshots, and a rate-limited Resync as
// a safety net that counts the drift it repairs), direct routes to other nodes' pod CIDRs
// via their node IPs on the underlay (netlink, marked with RouteProtocol),
// (or, with RouteMode "vxlan" for nodes that share no L2, the same routes
// onlink over a VXLAN device with one all-zero-MAC FDB entry per remote
// node: vxlan.go), and the node's CNI config (10-weir.conflist with its pod CIDR) for
// weir-cni. It listens on the agent socket weir-cni's STATUS probes, serves
// cluster DNS on the node's address (dns.go), and with --run-pods runs the
// pods bound to the node through containerd (node/runtime), reporting their
// status on the stream. Static pods (static*.go) come from the manifest
// dir (Config.ManifestDir, polled; *.yaml, *.yml and *.json files, each
// valid or not as a whole; a new or changed file is used once it has
// settled for one poll, a broken one keeps its last good pods, a removed
// one's pods stop at once): named <name>-<node>, with a UID and a
// kubernetes.io/config.hash derived from the node name and the pod's
// content (an agent restart derives the same UID and adopts the running
// containers; a changed pod gets a new one and replaces the old). They
// start at once, before and without the control plane (Runtime.SyncPartial
// until the stream delivered the node's pods), and are mirrored to the
// API with MirrorPod messages; a mirror that is missing, terminating or
// stale is sent again, one without a static pod is deleted, and mirrors
// that come back on the stream are never run themselves. With pods, the
// agent also serves the node API (nodeapi.go, node/nodeapi): the
// kubelet's HTTPS endpoints the control plane proxies pods/log, exec,
// attach and portforward to. configMap, secret, downwardAPI and projected
// volumes (projected.go; the kube-api-access ServiceAccount volume is a
// projected one) are written per pod in kube's atomic ..data layout — a
// token bound to the pod through TokenRequest, refreshed at 80% of its
// lifetime, ConfigMap/Secret keys and downward API fields — secret and
// projected ones on a tmpfs, in the pod's 0700 volumes dir, and
// bind-mounted read-only by node/runtime. The ConfigMaps and Secrets pods
// use (volumes, env valueFrom and envFrom) are followed while they run,
// each by its own list+watch by name (objects.go); a change rewrites the
// volumes reading it within the watch's latency, and containers' env
// (node/runtime, runtime.Objects) reads the same copies. The agent finds
// the API in the default/kubernetes EndpointSlice of its stream and calls
// it with the node's credential.
//
// The agent is the node system:node:NAME: it authenticates to the node
// stream with its client certificate in DataDir/pki (0600 in a 0700 dir),
// obtained at first start with Config.BootstrapToken (a CSR signed by the
// control plane, identity.go) and renewed with itself after two thirds of
// its lifetime, or at once when it meets a control member whose
// certificate another CA signed than its own (a CA rotation). It trusts
// the CA bundle the control plane sent with its certificate
// (DataDir/pki/ca.crt) and Config.CAPEM, on the node stream, the API and
// the node API. The bootstrap token is needed only while it has none;
// the agent holds no cluster-wide credential.
//
// # Contracts
//
//   - State.Apply is pure and atomic: a message that does not decode
//     changes nothing and is NACKed; one that applies but fails in the
//     kernel is NACKed with the error (the dataplane keeps the previous
//     state of what it could not sync).
//   - Nothing is flushed when the control plane is away: routes, pinned
//     maps and attachments stay; the agent reconnects with backoff and
//     resumes from the versions it holds.
//   - A restarted agent adopts pinned maps (dataplane.New) and its routes
//     (by protocol); it syncs the dataplane only once it holds both the
//     services and the endpoint slices snapshots, so adopted state is never
//     emptied by a partial view, and routes are reconciled against the
//     routes snapshot.
//   - Changes flow as deltas: State.Apply reports the keys a message
//     changed and deleted (an object re-sent at the resourceVersion held
//     is none), and the Reconciler's work per message is proportional to
//     that change, never to the number of Services: messages of other
//     kinds (pods, routes) never touch the dataplane, and DNS gets
//     dns.Delta of only the changed objects after its one full Update.
//     The safety net (Config.ResyncInterval, default 5m; 30s after a
//     change the dataplane failed) re-reads the maps and syncs everything
//     beside the stream loop, serialised with it.
//   - The kernel side sits behind Dataplane and Routes (real
//     implementations: *dataplane.Manager, *NetlinkRoutes); Listener is the
//     hook for the node's DNS server (*dns.Server: Update, then Apply).
//   - Pod events (events.go: the runtime's kubelet-style Pulling, Started,
//     Killing, Unhealthy, ...) go to the control plane as PodEvent
//     messages, in order, through a queue of at most 1000: while the stream
//     is down they wait there, and beyond the bound the oldest are dropped
//     (with a warning that counts them), as the kubelet loses events it
//     cannot deliver. Events are best effort; statuses are not.
//   - Storage (claims.go, localpath.go): a pod's PersistentVolumeClaim
//     and its bound PersistentVolume are read from the API when the pod
//     is set up (node/runtime mounts the volume); the node's deleted
//     local-path volumes (label weir.dev/local-path-node) are followed by
//     a list and watch, their directory removed, then their finalizer.
//
// # Testing
//
//	go test ./node/   # as root: two node netns on a bridge, agents, weir-cni pods, a ClusterIP service
//	go test ./node/ -run TestDeltaAcceptance   # as root: 5,000 services, one change = one Upsert (about 90 s)
package node
