// Package dns is `weir-bench dns`: it loads a large cluster (10,000
// services with 50,000 endpoints and their pods by default) into a
// dns.Server on loopback and drives it with dnsperf (Debian's dnsperf
// package) in four scenarios: cluster names, the queries the ndots:5
// search expansion of a pod really sends, cached external names, and
// NXDOMAIN; and, in the same run, a trivial UDP responder (same Go socket
// code, no DNS work) as the I/O ceiling of this machine.
//
// Each scenario is run twice: at saturation for queries per second, then
// at half that rate with per-query latencies (dnsperf -v) for p50 and p99.
// It also measures the heap the index takes per record, the time of a
// full Update and of an incremental Apply at this scale.
//
// Results go to docs/benchmarks.md (section "dns", with the exact command)
// and docs/bench/dns.json. Timings never gate anything.
package dns
