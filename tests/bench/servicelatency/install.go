package servicelatency

import (
	"context"
	"math/rand/v2"
	"slices"
	"time"
)

type changeFunc func(svcs []SvcPort, i int, cur SvcPort) (time.Duration, error)

// installMode installs the set in mode m from nothing, times Changes
// one-service changes (alternately changing a service and changing it
// back, so the set ends as it began) and reads the memory.
func (b *bench) installMode(ctx context.Context, m string, svcs []SvcPort, rng *rand.Rand) (*ModeResult, error) {
	mr := &ModeResult{Mode: m, MemoryKind: "none"}
	own := slices.Clone(svcs)
	var change changeFunc
	switch m {
	case ModeDirect:
		return mr, nil
	case ModeWeir:
		d, err := b.weir.install(ctx, own)
		if err != nil {
			return nil, err
		}
		mr.InstallMs = ms(d)
		change = func(s []SvcPort, i int, cur SvcPort) (time.Duration, error) { return b.weir.change(ctx, s, i, cur) }
	case ModeIptables:
		d, size, err := b.ipt.install(own)
		if err != nil {
			return nil, err
		}
		mr.InstallMs, mr.MemoryBytes, mr.MemoryKind = ms(d), uint64(size), "iptables-restore input (bytes of rule text)"
		change = b.ipt.change
	case ModeNftables:
		d, size, err := b.nft.install(own)
		if err != nil {
			return nil, err
		}
		mr.InstallMs, mr.MemoryBytes, mr.MemoryKind = ms(d), uint64(size), "nft -f input (bytes of rule text)"
		change = b.nft.change
	}
	i := changeIndex(own, rng)
	orig := own[i]
	var ds []time.Duration
	for k := 0; k < b.o.Changes+b.o.Changes%2; k++ {
		cur := orig
		if k%2 == 0 {
			cur = changed(orig, k)
		}
		d, err := change(own, i, cur)
		if err != nil {
			return nil, err
		}
		ds = append(ds, d)
	}
	mr.ChangeMs = ms(medianDur(ds))
	if m == ModeWeir {
		mem, err := b.weir.m.Memory()
		if err != nil {
			return nil, err
		}
		mr.MemoryBytes, mr.MemoryKind = mem, "kernel memory of the BPF maps (memlock)"
	}
	return mr, nil
}

// changeIndex picks a non-measured service port, or the UDP port of a
// target when there is none (scale 1).
func changeIndex(svcs []SvcPort, rng *rand.Rand) int {
	var bulk []int
	udp := -1
	for i, s := range svcs {
		switch {
		case s.Namespace != "bench":
			bulk = append(bulk, i)
		case s.Proto == "udp" && udp < 0:
			udp = i
		}
	}
	if len(bulk) > 0 {
		return bulk[rng.IntN(len(bulk))]
	}
	return udp
}
