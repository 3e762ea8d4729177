package servicelatency

import (
	"context"
	"fmt"
	"slices"
)

type sampleKey struct{ mode, target, op string }

type samples struct {
	ns     []int64
	errors int
}

func addrs(mode string, t Target, op string) []string {
	switch {
	case mode == ModeDirect && op == "udp":
		return t.UDPPods
	case mode == ModeDirect:
		return t.TCPPods
	case op == "udp":
		return []string{t.UDPVIP}
	}
	return []string{t.TCPVIP}
}

// verify checks that every mode reaches the target's backends, and only them.
func (b *bench) verify(modes []string, targets []Target) error {
	for _, m := range modes {
		for _, t := range targets {
			for _, op := range []string{"crr", "udp"} {
				rep, err := b.clients[m].do(request{Op: op, Addrs: addrs(m, t, op), N: 10})
				if err != nil {
					return err
				}
				if rep.Errors > 0 {
					return fmt.Errorf("%s %s to %s: %d of 10 failed: %s", m, op, t.Name, rep.Errors, rep.FirstErr)
				}
				for who := range rep.Backends {
					if !slices.Contains(t.Backends, who) {
						return fmt.Errorf("%s %s to %s answered by %q, want one of %v", m, op, t.Name, who, t.Backends)
					}
				}
			}
		}
	}
	return nil
}

// measure runs the rounds; round r starts with mode r (mod the modes).
func (b *bench) measure(ctx context.Context, sr *ScaleResult, modes []string, targets []Target) error {
	all := map[sampleKey]*samples{}
	ops := []struct {
		op string
		n  int
	}{{"crr", b.o.CRR}, {"rr", b.o.RR}, {"udp", b.o.UDP}}
	for r := 0; r < b.o.Rounds; r++ {
		for j := range modes {
			m := modes[(r+j)%len(modes)]
			for _, t := range targets {
				for _, op := range ops {
					if err := ctx.Err(); err != nil {
						return err
					}
					rep, err := b.clients[m].do(request{Op: op.op, Addrs: addrs(m, t, op.op), N: op.n})
					if err != nil {
						return err
					}
					k := sampleKey{m, t.Name, op.op}
					if all[k] == nil {
						all[k] = &samples{}
					}
					all[k].ns = append(all[k].ns, rep.Ns...)
					all[k].errors += rep.Errors
				}
			}
		}
		b.logf("%d services: round %d/%d done", sr.Services, r+1, b.o.Rounds)
	}
	for i := range sr.Modes {
		mr := &sr.Modes[i]
		for _, t := range targets {
			st := func(op string) Stats {
				s := all[sampleKey{mr.Mode, t.Name, op}]
				return summarize(s.ns, s.errors)
			}
			mr.Cells = append(mr.Cells, Cell{Target: t.Name, CRR: st("crr"), RR: st("rr"), UDP: st("udp")})
		}
	}
	return nil
}
