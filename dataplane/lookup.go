package dataplane

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/cilium/ebpf"
)

// PinnedLookup reads single frontends from the pinned maps of an instance
// another process owns (the agent's), the way the programs do: the master
// entry, its slots, their backends. Benchmarks poll it to see a change
// land in the kernel; it writes nothing.
type PinnedLookup struct {
	ms       *lbMapSet
	closeAll func()
}

// OpenPinnedLookup opens cfg.Instance's pinned maps read-only.
func OpenPinnedLookup(cfg Config) (*PinnedLookup, error) {
	ms, closeAll, err := openPinned(cfg)
	if err != nil {
		return nil, err
	}
	return &PinnedLookup{ms: ms, closeAll: closeAll}, nil
}

// Backends returns the ready backends of the frontend (address, port,
// protocol) in slot order, or nil when the maps hold no such frontend.
// Reading races the writer: a slot it finds missing is skipped.
func (l *PinnedLookup) Backends(front netip.AddrPort, proto Protocol) ([]netip.AddrPort, error) {
	key := feKey{addr: front.Addr().Unmap(), port: front.Port(), proto: proto}
	var master lbSvcVal
	if err := l.ms.services.Lookup(svcKey(key, 0), &master); errors.Is(err, ebpf.ErrKeyNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("dataplane: look up %s: %w", key, err)
	}
	out := make([]netip.AddrPort, 0, master.Count)
	for slot := uint16(1); slot <= master.Count; slot++ {
		var sv lbSvcVal
		var be lbBackend
		if err := l.ms.services.Lookup(svcKey(key, slot), &sv); errors.Is(err, ebpf.ErrKeyNotExist) {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("dataplane: look up %s slot %d: %w", key, slot, err)
		}
		if err := l.ms.backends.Lookup(sv.BackendId, &be); errors.Is(err, ebpf.ErrKeyNotExist) {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("dataplane: look up backend %d: %w", sv.BackendId, err)
		}
		out = append(out, netip.AddrPortFrom(fromAddr16(be.Addr), ntohs(be.Port)))
	}
	return out, nil
}

// Close releases the maps.
func (l *PinnedLookup) Close() { l.closeAll() }
