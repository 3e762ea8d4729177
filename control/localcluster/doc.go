// Package localcluster starts and stops weir's local cluster on one
// machine (`weir up` / `weir down`): an underlay network namespace with a
// bridge, one network namespace per node joined to it by a veth, one or
// three control members inside the underlay netns on their own bridge
// addresses (reached from the host through an API proxy process on
// loopback that fails over to a live member; nothing changes in the root
// netns; agents list every member's node stream), a
// private containerd with its state under the data dir, and one
// `weir agent --run-pods` per node in its netns with its own cgroup and
// dataplane instance. Up imports the test image, deploys a demo
// (Deployment, ClusterIP and NodePort Services) and self-checks it by
// ClusterIP from every node and by DNS name from every demo pod. Every
// process is recorded by PID and every name in the data dir, so that
// Down stops and removes exactly what Up made.
package localcluster
