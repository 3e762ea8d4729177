// Package e2e is weir's end-to-end suite: TestE2E brings up a local
// cluster with localcluster.Up (3 nodes, 3 control members, under a
// unique prefix, data dir and API port so that it cannot collide with a
// user's `weir up`) and checks, against the real kernel, containerd and
// weir processes: pod-to-pod traffic across nodes; a ClusterIP from
// every node and every pod; DNS names from pods; a NodePort from the
// underlay; a rolling update under a continuous client with zero failed
// requests; a killed agent (traffic moves to the other backends, its pods
// are rescheduled); a killed control leader (the API keeps accepting
// writes, the dataplane is undisturbed); and that Down leaves no netns,
// BPF pin, cgroup, process or data behind.
package e2e
