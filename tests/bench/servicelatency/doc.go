// Package servicelatency is the benchmark behind `weir-bench
// service-latency`: weir's eBPF socket-level service load balancer against
// kube-proxy's iptables and nftables modes and against a direct connection
// to the pod IP (the physical limit), in one run with the modes
// interleaved.
//
// # Topology
//
// Everything lives in network namespaces and cgroups the run creates
// (prefix weirsl-) and removes at the end, also on error or interrupt:
// two "node" namespaces joined by an underlay veth, each with a bridge;
// on node 1 one client pod per mode and two backend pods, on node 2 two
// backend pods. The backends (served by the benchmark process, sockets
// bound in the pod namespaces) answer every TCP line and UDP datagram with
// their name. Each client is a child process (the same binary re-executed
// with ChildEnv=client) born in its pod namespace and in a cgroup: the weir
// client in the cgroup weir's socket hooks are attached to, the others in a
// cgroup with nothing attached. Nothing touches the root namespace or the
// root cgroup.
//
// # Modes
//
//   - direct: the client dials the pod IPs (one picked at random per connection).
//   - weir: dataplane.New with CgroupPath = the weir client's cgroup, Sync of the whole set.
//   - iptables: kube-proxy's nat/filter rules (KUBE-SERVICES -> KUBE-SVC-* with
//     statistic random probabilities -> KUBE-SEP-* with KUBE-MARK-MASQ and DNAT,
//     chain names hashed as kube-proxy hashes them), loaded with
//     iptables-restore --noflush in the iptables client's pod namespace.
//   - nftables: kube-proxy's table ip kube-proxy (service-ips verdict map ->
//     service-* chains with numgen random -> endpoint-* chains), loaded with nft -f
//     in the nftables client's pod namespace.
//
// The client's packets pass OUTPUT in its own namespace, where the rules
// are, as for a host-network client on a kube-proxy node.
//
// # Measurements
//
// At each scale (numbers of services) the measured services ("targets")
// sit at the end of the rule order and at a random position, with local or
// remote backends. Per mode: TCP connect+request+response+close (CRR),
// request/response on an open connection (RR), UDP request/response from a
// fresh socket; the time to install the set from nothing and to change one
// service (kube-proxy's partial sync vs Manager.Upsert); memory (weir: map
// memlock; iptables/nftables: bytes of rule text). Results: Markdown for
// docs/benchmarks.md and JSON (Write).
//
// # Testing
//
//	go test ./tests/bench/servicelatency/                       # golden rules + quick run of every mode (root)
//	go test ./tests/bench/servicelatency/ -run Golden -update   # rewrite testdata/*.golden
package servicelatency
