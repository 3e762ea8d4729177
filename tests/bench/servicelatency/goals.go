package servicelatency

import (
	"fmt"
	"strings"
)

// goals compares the run with the targets, for the end/local target.
func goals(b *strings.Builder, res *Result) {
	b.WriteString("**Against the goals** (target `end/local`):\n\n")
	for _, s := range res.Scales {
		d := s.mode(ModeDirect).cell("end/local")
		w := s.mode(ModeWeir).cell("end/local")
		if d == nil || w == nil {
			continue
		}
		fmt.Fprintf(b, "- %d services: weir CRR p50 %.2fx direct (goal <= 1.02x: %s); RR p50 %.1f vs %.1f µs (%+.1f%%).",
			s.Services, w.CRR.P50us/d.CRR.P50us, verdict(w.CRR.P50us <= 1.02*d.CRR.P50us), w.RR.P50us, d.RR.P50us, 100*(w.RR.P50us/d.RR.P50us-1))
		if ip := s.mode(ModeIptables).cell("end/local"); ip != nil {
			fmt.Fprintf(b, " CRR p99: weir %.1f, iptables %.1f (%.2fx better)", w.CRR.P99us, ip.CRR.P99us, ip.CRR.P99us/w.CRR.P99us)
		}
		if nf := s.mode(ModeNftables).cell("end/local"); nf != nil {
			fmt.Fprintf(b, ", nftables %.1f µs", nf.CRR.P99us)
		}
		if s.Services == 10000 {
			if ip := s.mode(ModeIptables).cell("end/local"); ip != nil {
				fmt.Fprintf(b, " (goal >= 2x better than iptables: %s", verdict(ip.CRR.P99us >= 2*w.CRR.P99us))
				if nf := s.mode(ModeNftables).cell("end/local"); nf != nil {
					fmt.Fprintf(b, "; no worse than nftables: %s", verdict(w.CRR.P99us <= nf.CRR.P99us))
				}
				b.WriteString(")")
			}
		}
		if m := s.mode(ModeWeir); m != nil {
			fmt.Fprintf(b, " One change %.3f ms (goal <= 1 ms: %s).", m.ChangeMs, verdict(m.ChangeMs <= 1))
		}
		if ws := s.WeirSync; ws != nil {
			limit := 0.0
			switch s.Services {
			case 10000:
				limit = 1000
			case 100000:
				limit = 10000
			}
			fmt.Fprintf(b, " Sync %d x %d: %.0f ms", s.Services, ws.Backends, ws.SyncMs)
			if limit > 0 {
				fmt.Fprintf(b, " (goal <= %.0f ms: %s)", limit, verdict(ws.SyncMs <= limit))
			}
			b.WriteString(".")
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}
