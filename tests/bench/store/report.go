package store

import (
	"fmt"
	"sort"
	"strings"
)

// markdown renders the result as the "store" section of docs/benchmarks.md.
func markdown(r *Result) string {
	var b strings.Builder
	m := r.Machine
	fmt.Fprintf(&b, "## Store: weir vs etcd %s\n\n", m.Etcd)
	fmt.Fprintf(&b, "`%s` — %s UTC, weir %s.\n\n", r.Command, r.Started.Format("2006-01-02 15:04"), m.Weir)
	fmt.Fprintf(&b, "Machine: %s, %d cores, %d GiB RAM, Linux %s, data dirs on %s, %s.\n\n", m.CPU, m.Cores, m.MemoryGiB, m.Kernel, m.Filesystem, m.Go)
	fmt.Fprintf(&b, "Three members of each on loopback, fsync on (weir always fsyncs; etcd with its defaults, --snapshot-count included). ")
	fmt.Fprintf(&b, "Every write creates a new object. weir: HTTP POST through the API with keep-alive connections, %s. ", r.WeirTarget)
	fmt.Fprintf(&b, "etcd: clientv3 (one client balanced over the three members) stores the same JSON bytes at /registry/<resource>/bench/<name> with a create Txn (Put if the key does not exist), as kube-apiserver does. Pods name a scheduler that does not run (spec.schedulerName), so weir's built-in scheduler leaves them alone; weir's leader still runs its controllers, whose informers watch pods. ")
	fmt.Fprintf(&b, "Closed loop: each client sends its next write when the previous one is answered. Each cell runs both systems back to back, alternating which goes first; ratios are weir/etcd (writes/s: higher is better for weir; p99: lower is better for weir).\n\n")
	b.WriteString("| object | clients | weir writes/s | etcd writes/s | ratio | weir p50 ms | etcd p50 ms | weir p99 ms | etcd p99 ms | p99 ratio | elections weir/etcd | errors weir/etcd |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, c := range r.Cells {
		fmt.Fprintf(&b, "| %s | %d | %.0f | %.0f | %s | %.1f | %.1f | %.1f | %.1f | %s | %d/%d | %d/%d |\n",
			c.Object, c.Clients, c.Weir.PerSec, c.Etcd.PerSec, ratio(c.Weir.PerSec, c.Etcd.PerSec),
			c.Weir.P50Ms, c.Etcd.P50Ms, c.Weir.P99Ms, c.Etcd.P99Ms, ratio(c.Weir.P99Ms, c.Etcd.P99Ms),
			c.Weir.Elections, c.Etcd.Elections, c.Weir.Errors, c.Etcd.Errors)
	}
	b.WriteString("\nElections: raft term growth during the cell (a leader that steps down stalls writes until the next one is elected). " +
		"Errors: failed writes (not retried, not counted in writes/s or latency); the first error of each system is in docs/bench/store.json.\n")
	if r.Memory != nil {
		writeMemory(&b, r.Memory)
	}
	return b.String()
}

func writeMemory(b *strings.Builder, mem *Memory) {
	fmt.Fprintf(b, "\nMemory after loading %d more %s objects into each (plus those of the cells above); load rate: weir %.0f/s (p99 %.1f ms, %d failed attempts retried), etcd %.0f/s (p99 %.1f ms, %d failed attempts retried).\n\n",
		mem.Objects, mem.Object, mem.WeirLoad.PerSec, mem.WeirLoad.P99Ms, mem.WeirLoad.Errors, mem.EtcdLoad.PerSec, mem.EtcdLoad.P99Ms, mem.EtcdLoad.Errors)
	b.WriteString("| member | RSS MiB | anon MiB | file MiB | Go heap in use MiB | Go heap retained MiB | data dir MiB |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|\n")
	for _, m := range append(append([]MemberMemory(nil), mem.Weir...), mem.Etcd...) {
		fmt.Fprintf(b, "| %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f (%s) |\n",
			m.Name, m.RSSMiB, m.AnonMiB, m.FileMiB, m.HeapInuseMiB, m.HeapRetainedMiB, m.DataDirMiB, fileList(m.Files))
	}
	b.WriteString("\nweir members are m1-m3, etcd members e1-e3. anon: private memory (mostly the Go heap); file: mapped file pages (bbolt databases); " +
		"Go heap from each member's /metrics (retained: idle heap not yet returned to the OS).\n")
}

func fileList(files map[string]float64) string {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var parts []string
	for _, n := range names {
		if files[n] >= 1 {
			parts = append(parts, fmt.Sprintf("%s %.0f", n, files[n]))
		}
	}
	return strings.Join(parts, ", ")
}

func ratio(a, b float64) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2fx", a/b)
}
