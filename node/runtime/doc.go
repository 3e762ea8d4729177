// Package runtime runs a node's pods through containerd: a pod is a named
// network namespace wired by weir-cni (through libcni, in the node's
// network namespace) plus one containerd container per pod container, in
// the node's own containerd namespace, with the pod netns, hostname,
// /etc/hosts and /etc/resolv.conf set in the OCI spec and cgroups under
// the node's cgroup root (so the socket load balancer sees the pods).
//
// # Contracts
//
//   - Sync(pods) is the desired set for the node. A pod not yet known gets
//     a worker goroutine that owns its whole lifecycle; a pod that left the
//     set, or carries a deletionTimestamp, is stopped gracefully: SIGTERM,
//     terminationGracePeriodSeconds, SIGKILL; then its containers, network
//     (CNI DEL), namespace, cgroups and files are removed.
//   - SyncPartial is Sync with a list known to be incomplete (the agent's
//     static pods before the control plane delivered the rest): it starts
//     and stops pods the same way but removes no leftovers; the first full
//     Sync does.
//   - hostNetwork pods (hostnet.go) get no namespace and no CNI: their
//     containers join Config.NodeNetns (or the agent's own netns), their
//     IP is the first of Config.NodeIPs, /etc/hosts is the host's plus the
//     node name (their hostname), resolv.conf is the host's unless
//     dnsPolicy is ClusterFirstWithHostNet.
//   - Volumes: emptyDirs (emptydir.go) are 0777 directories in the pod's
//     directory, bind-mounted read-write (read-only where the volumeMount
//     says readOnly) into the containers that mount them; medium Memory
//     is a tmpfs the agent mounts there (size: sizeLimit, lowered to the
//     pod's memory limit when every container has one; else the kernel's
//     default). Data outlives container restarts and agent restarts
//     (adoption mounts nothing twice); every removal of a pod's directory
//     (worker, orphan, failed set-up) unmounts what is under it first.
//     Other volumes come from Config.Volumes and are mounted read-only.
//   - Security contexts (secctx.go) as the kubelet and containerd's CRI
//     plugin apply them: runAsUser/runAsGroup/runAsNonRoot/seccompProfile
//     of the container, else the pod's; groups: the image's for the user
//     (unless supplementalGroupsPolicy Strict), fsGroup,
//     supplementalGroups; runAsNonRoot is verified against the image's
//     USER (CreateContainerConfigError with the kubelet's message);
//     capabilities from containerd's default set (ALL first); privileged;
//     no_new_privs only for allowPrivilegeEscalation false; seccomp
//     RuntimeDefault is containerd's profile, else none; the pod's
//     sysctls. fsGroup (fsgroup.go) gives emptyDirs to the group at each
//     set-up, and Config.Volumes implementations call SetVolumeOwnership
//     after each write.
//   - subPath and subPathExpr (subpath.go): the path, expanded with the
//     container's environment, must stay inside the volume after
//     symlinks; it is opened without following symlinks and that fd is
//     bound under pods/<uid>/volume-subpaths, which the container mounts.
//   - Environment (env.go), as the kubelet makes it when a container is
//     created: envFrom's ConfigMaps and Secrets (with prefix), then env
//     in order, literal values expanding $(VAR) references to variables
//     defined before ($$ escapes, unknown names kept as written), or
//     valueFrom a ConfigMap or Secret key (Config.Objects), a downward
//     API field or a resource field; command and args are expanded with
//     the whole environment. A missing object or key that is not
//     optional leaves the container waiting with
//     CreateContainerConfigError and the kubelet's message, retried with
//     the restart back-off.
//   - restartPolicy Always/OnFailure/Never is applied per container: the
//     first restart is immediate, later ones wait an exponential back-off
//     (Config.BackoffBase doubling up to Config.BackoffMax); both reset
//     after ten minutes of running, as the kubelet's.
//   - Init containers (init.go) run in order, each to completion, before
//     the app containers (Pending, Initialized false, every container
//     waiting with PodInitializing meanwhile); a failed one restarts with
//     the back-off (the pod's Always counts as OnFailure) or, under Never,
//     fails the pod. Completions are recorded in the pod dir: an adopting
//     agent does not run them again. Sidecars (sidecar.go: restartPolicy
//     Always) start in their turn, the next init container waiting until
//     they are started; they always restart, count for readiness and are
//     stopped once the app containers ended.
//   - Lifecycle hooks (hooks.go): postStart (exec, httpGet, sleep) runs
//     right after the start and the container shows Running once it
//     returned; a failed one kills the container (FailedPostStartHook),
//     which restarts per policy. preStop runs before every SIGTERM
//     (deletion, deadline, probe or postStart kill) within the grace
//     period; SIGTERM then gets at least 2 seconds.
//   - activeDeadlineSeconds (deadline.go) counts from status.startTime
//     (the API's, kept across agent restarts); once passed the pod is
//     Failed with reason DeadlineExceeded and its containers are stopped
//     gracefully and not restarted; it is reported removed only once
//     deleted. Sync applies a changed deadline to a running pod.
//   - Probes (probe*.go) follow Kubernetes: startup first, then liveness
//     and readiness; httpGet, tcpSocket and grpc dial the pod IP from the
//     node's network namespace, exec runs in the container as its own
//     process. A failed startup or liveness probe kills the container
//     (SIGTERM, its grace period, SIGKILL) and it restarts unless the
//     restartPolicy is Never. A container is Ready when running, started
//     and passing its readiness probe; readiness resets on every restart
//     and each change is reported at once. Each container instance owns
//     its probers and stops them before it is restarted or removed.
//   - Every status change is reported through Config.Report (the agent
//     sends it on the node stream) with the pod's UID; Status reads the
//     latest. A stopped pod's last report, once its containers and network
//     are gone, has Removed set (the control plane then deletes a
//     terminating pod); a detach (Close) reports nothing. A pod whose
//     containers completed, or that the API has Succeeded or Failed, is
//     not run again; a pod first seen with a deletionTimestamp is only
//     cleaned up and reported removed.
//   - Close stops the workers without touching containers: pods keep
//     running while the agent is away.
//   - Images (pull*.go) follow imagePullPolicy (empty: the API's default,
//     Always for :latest or no tag, else IfNotPresent): Never uses the
//     local image only (else the container waits with ErrImageNeverPull);
//     IfNotPresent pulls a missing one; Always resolves the reference at
//     its registry on every container start and pulls when the digest
//     differs, so an unreachable registry fails it. Pulls (with the
//     credentials of the pod's imagePullSecrets, pull_auth.go) go through the
//     containerd client (docker resolver, unpacked into the snapshotter;
//     plain HTTP for loopback registries and Config.InsecureRegistries).
//     A failed pull shows ErrImagePull, then ImagePullBackOff until the
//     next attempt (the restart back-off); a retried pull shows
//     ContainerCreating. Containers wanting the same image share one pull,
//     bounded by 5 minutes and cancelled when no pod waits for it any
//     more. Import loads OCI or docker archives (`weir image import`).
//   - Events (event*.go) go to Config.Event at the kubelet's points, with
//     its reasons and wording: Pulling, Pulled ("Successfully pulled image
//     ..." or "Container image ... already present on machine"), Failed
//     ("Failed to pull image ...", "Error: ErrImagePull",
//     "Error: ErrImageNeverPull", ...), ErrImageNeverPull, InspectFailed
//     (InvalidImageName), BackOff ("Back-off pulling image ...",
//     "Back-off restarting failed container C in pod P_NS(UID)"), Created,
//     Started, Killing ("Stopping container C" when the pod stops, "Container
//     C failed liveness probe, will be restarted" after a probe kill),
//     Unhealthy (Warning, each failed probe result: "Liveness probe failed:
//     OUTPUT") and FailedCreatePodSandBox. The callback must not block; the
//     same event of the same pod within a second is dropped.
//   - Container output (crilog.go) is read by the agent from the task's
//     stdout/stderr FIFOs and written as a CRI log (RFC3339Nano time,
//     stream, F/P tag, line) in the pod dir; the previous instance's log
//     is kept beside it. A restarted agent re-attaches to running tasks'
//     FIFOs; while no agent reads, output blocks once the pipe is full. A
//     new Runtime removes the FIFO dirs of tasks that no longer exist.
//     Logs reads it with the kubelet's options (tail, since, timestamps,
//     limitBytes, follow, previous); Attach follows it; Exec runs a
//     command with or without a terminal (resizable); PortForward dials
//     127.0.0.1:port inside the pod's network namespace.
//
// # Testing
//
//	go test ./node/runtime/   # as root: starts its own containerd in a temp dir
package runtime
