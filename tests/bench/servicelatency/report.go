package servicelatency

import (
	"fmt"
	"strings"

	"github.com/weirnet/weir/tests/benchreport"
)

// Write updates the service-latency section of the markdown file md and
// writes service-latency.json into jsonDir ("" skips either).
func Write(res *Result, md, jsonDir string) error {
	if md != "" {
		if err := benchreport.UpdateSection(md, "service-latency", Markdown(res)); err != nil {
			return fmt.Errorf("write %s: %w", md, err)
		}
	}
	if jsonDir != "" {
		if err := benchreport.WriteJSON(jsonDir, "service-latency", res); err != nil {
			return fmt.Errorf("write %s/service-latency.json: %w", jsonDir, err)
		}
	}
	return nil
}

// Markdown renders the run as the docs/benchmarks.md section.
func Markdown(res *Result) string {
	var b strings.Builder
	o := res.Options
	fmt.Fprintf(&b, "## Service latency: weir eBPF vs kube-proxy iptables and nftables\n\n")
	fmt.Fprintf(&b, "`%s` (%s; kernel %s, %d CPUs; %s via `%s`; %s).\n\n", res.Command, res.Started, res.Machine.Kernel, res.Machine.CPUs, res.Machine.Iptables, o.Iptables, res.Machine.Nft)
	fmt.Fprintf(&b, "One client pod per mode on node 1; the measured service's backends are two pods on node 1 (`local`) or two on node 2 (`remote`); "+
		"`end` = the service's rules are the last in KUBE-SERVICES, `random` = at a random position. Rules are loaded in the client pod's namespace "+
		"(its OUTPUT hook, as for a host-network client on a kube-proxy node); weir's socket LB is attached to the weir client's cgroup only; `direct` dials the pod IPs. "+
		"Other services have %d endpoint(s) each. Rounds: %d, modes interleaved (round r starts with mode r). Per target, mode and round: %d CRR, %d RR, %d UDP. "+
		"Latencies in µs; ops/s = 1/mean for one sequential client; `vs direct` = CRR p50 / direct's.\n\n",
		o.Endpoints, o.Rounds, o.CRR, o.RR, o.UDP)
	latencyTable(&b, res)
	controlTable(&b, res)
	goals(&b, res)
	return b.String()
}

func latencyTable(b *strings.Builder, res *Result) {
	b.WriteString("| services | target | mode | CRR p50 | CRR p99 | CRR mean | CRR ops/s | RR p50 | RR p99 | UDP p50 | UDP p99 | errors | vs direct |\n")
	b.WriteString("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range res.Scales {
		for _, t := range s.Targets {
			direct := s.mode(ModeDirect).cell(t.Name)
			for _, m := range s.Modes {
				c := m.cell(t.Name)
				if c == nil {
					continue
				}
				ratio := "-"
				if direct != nil && direct.CRR.P50us > 0 {
					ratio = fmt.Sprintf("%.2fx", c.CRR.P50us/direct.CRR.P50us)
				}
				fmt.Fprintf(b, "| %d | %s | %s | %.1f | %.1f | %.1f | %.0f | %.1f | %.1f | %.1f | %.1f | %d | %s |\n",
					s.Services, t.Name, m.Mode, c.CRR.P50us, c.CRR.P99us, c.CRR.MeanUs, c.CRR.OpsPerSec,
					c.RR.P50us, c.RR.P99us, c.UDP.P50us, c.UDP.P99us, c.CRR.Errors+c.RR.Errors+c.UDP.Errors, ratio)
			}
		}
	}
	b.WriteString("\n")
}

func controlTable(b *strings.Builder, res *Result) {
	b.WriteString("| services | service ports | mode | install | change one service | memory | memory measures |\n|---:|---:|---|---:|---:|---:|---|\n")
	for _, s := range res.Scales {
		for _, m := range s.Modes {
			if m.Mode == ModeDirect {
				continue
			}
			fmt.Fprintf(b, "| %d | %d | %s | %.1f ms | %.3f ms | %s | %s |\n", s.Services, s.Ports, m.Mode, m.InstallMs, m.ChangeMs, mib(m.MemoryBytes), m.MemoryKind)
		}
		if w := s.WeirSync; w != nil {
			fmt.Fprintf(b, "| %d | %d | weir, %d backends each | %.1f ms | | %s | kernel memory of the BPF maps (memlock) |\n",
				s.Services, s.Ports, w.Backends, w.SyncMs, mib(w.MemoryBytes))
		}
	}
	b.WriteString("\nInstall: iptables = `iptables-restore --noflush` of kube-proxy's full sync into emptied tables; nftables = `nft -f` of the full table; " +
		"weir = `Manager.Sync` of the whole set into a fresh instance. Change one service = one endpoint replaced: kube-proxy's partial sync " +
		"(iptables: top-level chains plus the service's chains; nftables: new endpoint chain, service chain flushed and rewritten) vs `Manager.Upsert`; " +
		"median of the changes, iptables/nft timings include starting the tool.\n\n")
}

func mib(n uint64) string {
	if n == 0 {
		return "-"
	}
	if n < 1<<20 {
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
