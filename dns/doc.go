// Package dns is weir's cluster DNS server: it answers the cluster zone
// (cluster.local by default) per the Kubernetes DNS-Based Service Discovery
// specification, schema 1.1.0, and forwards every other name to the node's
// upstream resolvers through a TTL-honouring cache.
//
// # What it owns
//
// A Server is fed Kubernetes objects (corev1.Service, discoveryv1.EndpointSlice,
// corev1.Pod): Update with a full snapshot, Apply with incremental deltas. It
// keeps slim copies of what DNS needs, derives the resource records each
// object contributes, and publishes a read-only index that queries read
// without locks. An update is visible to every query that starts after
// Update or Apply returns.
//
// # What it promises
//
//   - dns-version.<zone> TXT "1.1.0"; <svc>.<ns>.svc.<zone> A/AAAA (the
//     ClusterIPs, even with no endpoints; for headless services one record per
//     ready endpoint, NXDOMAIN when there is none); _<port>._<proto> SRV for
//     named ports (N x M for headless services, with the targets' addresses in
//     the additional section); <hostname>.<svc>.<ns>.svc.<zone> per endpoint
//     (the endpoint's hostname, else its dashed IP); PTR records for
//     ClusterIPs, endpoints and pods; ExternalName services as CNAMEs, chased
//     in the zone or through the upstreams; publishNotReadyAddresses.
//   - Pod records <a-b-c-d>.<ns>.pod.<zone> (verified against known pods by
//     default, or for any address with PodRecords: PodsInsecure as the
//     specification's deprecated section 2.6 describes) and
//     <hostname>.<subdomain>.<ns>.svc.<zone> for pods that set both and whose
//     subdomain names a headless service.
//   - Names compare case-insensitively; answers keep the question's spelling.
//     A name that does not exist gets NXDOMAIN, a name without the asked type
//     NOERROR with no answer (NODATA); both carry the zone's SOA in the
//     authority section, whose minimum is the configured TTL.
//   - EDNS0: the client's advertised UDP size is honoured (up to
//     Config.MaxUDPSize); a reply that does not fit is truncated with the TC
//     bit set so the client retries over TCP, where it gets everything.
//   - Before the first Update every query for the zone gets SERVFAIL.
//   - Names outside the zone go to Config.Upstreams in order, failing over
//     to the next on timeout, transport error, malformed or mismatched reply,
//     SERVFAIL or REFUSED; when all fail the client gets SERVFAIL within
//     Config.UpstreamTimeout. Answers are cached for their TTL, negative
//     answers for the SOA minimum (RFC 2308); identical concurrent questions
//     share one upstream exchange.
//   - Only sources in Config.AllowedNets (and loopback) get answers; others
//     get REFUSED, so the server is never an open resolver.
//   - Malformed packets get FORMERR (or nothing, when not even the header
//     parses), never a panic; memory is bounded by the cache size.
//
// # How to test it
//
// go test ./dns/... runs table tests against a real server on 127.0.0.1,
// real dig over UDP and TCP, and (as root) dig +search from inside a network
// namespace. go test -fuzz FuzzServeDNS ./dns fuzzes the query path.
// The benchmark is `weir-bench dns` (package tests/bench/dns).
package dns
