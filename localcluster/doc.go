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
// process is recorded in the data dir as it starts, by PID and start
// time (never judged by its command line, which reads empty during
// exec), and every name too, so that Down stops and removes exactly what
// Up made, also after a failed Up, and never a recycled PID. Up waits
// for the processes it starts: one that exits fails Up at once with its
// exit status and the end of its log, where that status is appended.
// Agents join with a bootstrap token Up creates (DATA-DIR/bootstrap-token,
// 0600, valid a day) and then hold their own node certificates; they never
// see the admin token. Up writes an admin
// kubeconfig (https proxy address, cluster CA, token) to DATA-DIR/kubeconfig
// and ~/.kube/weir.config; AdminKubeconfig (`weir kubeconfig`) prints it.
package localcluster
