package dataplane

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// TestProgramStats loads each BPF program on the running kernel and reports
// what docs/kernels.md tabulates per kernel, as one PROGSTAT line each:
// the verifier's processed instructions (from its log, every kernel), the
// kernel's verified_insns (ProgramInfo, kernel >= 5.16; "n/a" before) and
// the time BPF_PROG_LOAD took for that program alone.
func TestProgramStats(t *testing.T) {
	coll, s := loadWithStats(t, "progstats")
	for name, p := range coll.Programs {
		m := processedRE.FindStringSubmatch(p.VerifierLog)
		if m == nil {
			t.Fatalf("%s: no instruction count in the verifier log: %q", name, p.VerifierLog)
		}
		verified := "n/a"
		if info, err := p.Info(); err == nil {
			if n, ok := info.VerifiedInstructions(); ok {
				verified = strconv.FormatUint(uint64(n), 10)
			}
		}
		// Load the program once more on its own, against the collection's
		// maps, to time BPF_PROG_LOAD (verification and JIT) for it alone.
		ps := s.Programs[name].Copy()
		for mn, mp := range coll.Maps {
			if err := ps.Instructions.AssociateMap(mn, mp); err != nil && !errors.Is(err, asm.ErrUnreferencedSymbol) {
				t.Fatalf("%s: associate map %s: %v", name, mn, err)
			}
		}
		start := time.Now()
		again, err := ebpf.NewProgram(ps)
		elapsed := time.Since(start)
		if err != nil {
			t.Fatalf("%s: load alone: %+v", name, err)
		}
		again.Close()
		t.Logf("PROGSTAT %s processed=%s verified=%s load_ms=%.1f", name, m[1], verified, float64(elapsed.Microseconds())/1000)
	}
}
