// Package dataplane is weir's eBPF service load balancer: it replaces
// kube-proxy by translating Kubernetes Services in the kernel. It is the
// only weir package that imports cilium/ebpf.
//
// # What it owns
//
// The BPF programs in ../bpf (compiled by bpf2go into lb_bpfel.o, loaded
// from the embedded object, never compiled on nodes), their maps pinned under
// <BPFFSRoot>/weir/<Instance>/, the cgroup links that attach the socket hooks
// to Config.CgroupPath, and the tc clsact filters on Config.Interfaces.
//
// # API (stable; other packages and the benchmark harness build on it)
//
//	m, err := dataplane.New(dataplane.Config{Instance: "node1", CgroupPath: cg})
//	stats, err := m.Sync(ctx, desired)   // full desired state; idempotent; removes what is not in it
//	stats, err = m.Upsert(ctx, svc...)   // add/replace some services; cost proportional to the change
//	stats, err = m.Delete(ctx, svc...)   // remove services (by namespace, name, port name, protocol)
//	stats, err = m.Resync(ctx, desired) // Sync after re-reading the maps: the safety net under Upsert/Delete
//	err = m.Dump(os.Stdout)              // stable text, for golden files and debugging
//	bytes, err := m.Memory()             // kernel memory of the maps (memlock)
//	err = m.Close()                      // releases fds; pins and attachments stay, traffic flows
//	err = dataplane.Cleanup(cfg)         // detaches and unpins everything of cfg.Instance
//	err = dataplane.DumpPinned(cfg, w)   // Dump from another process (weir dataplane dump)
//	l, err := dataplane.OpenPinnedLookup(cfg) // one frontend's backends from another process (weir-bench scale)
//	err = dataplane.Serve(ctx, m, path, 0) // Sync from YAML files now and on every change
//
// Desired state is a list of Service values, one per Service port (a
// frontend set plus backends). Build it directly, or from Kubernetes objects:
//
//	svcs, slices, err := dataplane.ReadObjects("services.yaml") // file or directory, YAML or JSON
//	desired, err := dataplane.DesiredFromObjects(svcs, slices)   // k8s.io/api types; err lists skipped addresses
//	ports, err := dataplane.ServicePorts(&svc, slicesOfSvc)      // the same conversion for one Service (deltas)
//
// # Contracts
//
//   - Lookups never see a half-written service: Sync writes backends first,
//     then Maglev tables, backend slots and reverse NAT, and the master entry
//     (slot 0) last; removal runs in reverse.
//   - Backend ids are stable across syncs, so established flows keep their
//     backend unless that backend is removed.
//   - New on existing pins adopts them: ids, backends and attachments are
//     read back from the maps, programs are swapped atomically (bpf_link
//     update, tc filter replace), and the next Sync writes only differences.
//     A process that owns the dataplane may exit at any time; traffic keeps
//     flowing on the pinned state.
//   - A service that does not fit (map full) is skipped with an error
//     wrapping ErrMapFull; its previous state stays untouched, and the other
//     services are still synced.
//   - Metrics (Config.Registerer): weir_dataplane_upserts_total and
//     weir_dataplane_deletes_total count the Services (namespace/name)
//     each Upsert and Delete names, weir_dataplane_full_syncs_total the
//     Syncs and Resyncs, weir_dataplane_resync_repairs_total the groups a
//     Resync had to change (drift).
//   - Sync returns an error joining the per-service failures (conflicting
//     frontends, map full); SyncStats counts what was done.
//
// # Kernel baseline
//
// Linux 5.10: cgroup sock_addr hooks (connect, sendmsg, recvmsg,
// getpeername for IPv4 and IPv6), tc clsact through netlink, no bpf_loop or
// kfuncs. A connect to a service without backends fails with ECONNREFUSED
// where bpf_set_retval exists (>= 5.18) and with EPERM on older kernels.
// See README.md for the data flow and the map layout.
//
// # Testing
//
// Tests need root (testutil.RequirePrivileged) and run against the real
// kernel in network namespaces and a cgroup they create:
//
//	go test ./dataplane/...                  # all, about 20-40 s
//	go test -short ./dataplane/...           # without the 100,000-service scale test
//	go test ./dataplane/ -run Golden -update # rewrite testdata/*.golden
package dataplane
