// Package nodee2e tests the real binaries end to end: a `weir server`
// control member and two `weir agent` processes, each in its own network
// namespace on a bridge underlay, pods wired by the built weir-cni from the
// conflist the agent wrote, and everything observed from the outside: the
// API (through a loopback proxy into the underlay namespace), routes in the
// node namespaces, and TCP connections from pods.
//
// What it checks: Nodes Ready with pod CIDRs, routes to the other node's
// pod CIDR, pod-to-pod across nodes, a ClusterIP Service + EndpointSlice
// written through the API reaching backends on both nodes from both nodes,
// the time from an EndpointSlice write to the endpoint being served on
// every node (probes connect every millisecond from a pod on each node),
// kill -9 and restart of an agent (pinned maps keep traffic flowing; the
// agent resumes), and a control-member restart (the dataplane keeps
// serving; agents reconnect). With a private containerd: a Deployment
// scheduled onto both nodes, run by `weir agent --run-pods`, Running and
// Ready, in its Service's EndpointSlice and reachable from both nodes,
// adoption after an agent restart and a container restart counted while the
// control member is down. Cluster DNS: real dig from a pod through
// 10.96.0.10 and the eBPF load balancer (UDP, TCP, +search). `weir logs`
// and `weir exec` binaries through the API and the agent's node API
// (output, exit codes, stdin, -f, clear errors).
//
// TestPodsAcceptance runs issue 5's acceptance on one cluster (member with
// a short node grace and pod eviction timeout, agents, containerd), each
// scenario a subtest that also runs alone: a Deployment scaled 3 -> 5 ->
// 0 -> 3 with its EndpointSlice's ready addresses; a container killed
// (restartCount +1, out of the ready addresses and back); a rolling update
// with a client asking the ClusterIP without pause (no failed request);
// Jobs (completions 5 / parallelism 2; backoffLimit 2 -> Failed,
// BackoffLimitExceeded); unschedulable pods (cpu, taint) reporting why and
// scheduled when a fitting third node joins; an agent killed (Node
// Unknown, pods evicted after the timeout and recreated elsewhere, the
// Service answering throughout).
//
// ServiceAccounts: a pod's projected token, CA and namespace, used from
// inside the pod (the test image's `weir-testserver apicall`) to reach
// the API through the kubernetes Service, and refused once the pod is
// deleted.
//
// ConfigMaps and Secrets: a pod's configMap (items, modes), secret and
// downwardAPI volumes and env (valueFrom, envFrom, $(VAR) expansion)
// seen from inside it, a ConfigMap edit reaching the running pod's file,
// and CreateContainerConfigError for a missing key until it is added.
//
// Processes run under nsenter --net (not `ip netns exec`, which would give
// them a private /sys and so a private bpffs and no cgroup2 mount).
//
//	sudo go test ./tests/nodee2e/        # builds weir and weir-cni
//	sudo WEIR_BIN=$PWD/bin go test ./tests/nodee2e/   # uses built ones
package nodee2e
