// Package up measures `weir up`: the wall time of `weir up --nodes N
// --control C` from process start to its passing self-check (the demo
// answering by ClusterIP from every node and by DNS name from its pods),
// then, after an idle period, each component's memory (VmRSS split into
// RssAnon and RssFile from /proc/PID/status) and CPU. Every run uses its
// own data dir, name prefix and API port, so that it cannot touch a
// user's `weir up`, and ends with `weir down`.
package up
