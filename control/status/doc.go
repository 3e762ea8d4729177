// Package status gathers a cluster's health at a glance through the API
// (so it works against any weir cluster, not only `weir up`): control
// members with the leader and each member's /readyz, nodes with their
// Ready condition, pod CIDR and pod count, pods by phase and readiness,
// the Service count and cluster DNS (the ready endpoints of
// kube-system/kube-dns-nodes). Report.Print writes one line per item with
// an OK, problem or unknown marker.
package status
