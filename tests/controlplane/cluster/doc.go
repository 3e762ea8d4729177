// Package cluster runs a weir control plane as separate `weir server`
// processes on loopback, for the multi-process acceptance tests
// (tests/controlplane) and the store benchmark (tests/bench/store).
//
// It owns every process it starts: Start launches the members (the first
// bootstraps, the others join it) with one shared cluster secret and API
// token; Kill sends SIGKILL, Pause/Resume send SIGSTOP/SIGCONT, Restart
// starts a killed member again on the same ports and data dir, and Close
// kills every member and waits for it. Children also get SIGKILL when the
// parent dies (Pdeathsig), so an aborted test leaves no member behind.
//
// Client is a deliberately small HTTPS client for the Kubernetes-shaped
// API (it trusts the cluster CA from the members' data dirs): status codes and bodies are returned as they are, so tests can
// tell a definite answer from an unknown outcome.
package cluster
