// Package store is the store benchmark behind `weir-bench store`: a
// 3-member weir control plane and a 3-member etcd 3.4 cluster (Debian's
// etcd-server), both on loopback with fsync on and their own temporary data
// dirs, take the same create workload in the same run: 256-byte ConfigMaps
// and ~4 KiB Pods from 1, 16 and 256 concurrent clients, interleaved cell by
// cell. weir gets HTTP POST creates through its API (keep-alive connections
// spread over the members, or sent to the leader); etcd gets clientv3 Puts
// of the same JSON bytes to /registry/<resource>/<namespace>/<name> keys,
// as kube-apiserver stores objects. It reports writes/s and p50/p99
// latency with the weir/etcd ratios, then loads many objects into both and
// reports each member's RSS (VmRSS).
//
// Both clusters are stopped and their data removed at the end, also on
// error or interrupt; member processes die with the benchmark (Pdeathsig).
package store
