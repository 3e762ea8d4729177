package dataplane

import (
	"errors"
	"fmt"
	"net/netip"
	"os"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/features"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"
)

// maglevMaxSize bounds MaglevTableSize (the inner map value is 4*size bytes).
const maglevMaxSize = 65521

// spec returns the embedded collection with map sizes and constants from cfg.
func spec(cfg Config) (*ebpf.CollectionSpec, error) {
	s, err := loadLb()
	if err != nil {
		return nil, fmt.Errorf("dataplane: parse embedded BPF object: %w", err)
	}
	sizes := map[string]int{
		lbMapLbServices: cfg.MaxServices + cfg.MaxSlots,
		lbMapLbBackends: cfg.MaxBackends,
		lbMapLbRevnat:   cfg.MaxServices,
		lbMapLbNames:    cfg.MaxServices,
		lbMapLbMaglev:   cfg.MaxServices,
		lbMapLbStats:    cfg.MaxServices + 1,
		lbMapLbCt:       cfg.ConntrackSize,
		lbMapLbSkRevnat: cfg.SockRevNatSize,
		lbMapLbAffinity: cfg.AffinitySize,
	}
	for name, n := range sizes {
		s.Maps[name].MaxEntries = uint32(n)
	}
	s.Maps[lbMapLbMaglev].InnerMap.ValueSize = uint32(4 * cfg.MaglevTableSize)
	vars := map[string]any{
		lbVarMaglevSize:    uint32(cfg.MaglevTableSize),
		lbVarHaveSetRetval: boolByte(!cfg.noSetRetval && features.HaveProgramHelper(ebpf.CGroupSockAddr, asm.FnSetRetval) == nil),
		lbVarSnatIp4:       snatIP4(cfg.NodeIPs),
		lbVarSnatIp6:       snatIP6(cfg.NodeIPs),
	}
	for name, v := range vars {
		if err := s.Variables[name].Set(v); err != nil {
			return nil, fmt.Errorf("dataplane: set %s: %w", name, err)
		}
	}
	return s, nil
}

func boolByte(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// snatIP4 and snatIP6 are the first node address of each family, as the
// address bytes the programs read (zero: none).
func snatIP4(ips []netip.Addr) [4]byte {
	for _, a := range ips {
		if a = a.Unmap(); a.Is4() {
			return a.As4()
		}
	}
	return [4]byte{}
}

func snatIP6(ips []netip.Addr) [16]byte {
	for _, a := range ips {
		if a.Is6() && !a.Is4In6() {
			return a.As16()
		}
	}
	return [16]byte{}
}

// load loads the programs and opens (or creates and pins) the maps.
func load(cfg Config) (*ebpf.Collection, *ebpf.CollectionSpec, error) {
	if err := rlimit.RemoveMemlock(); err != nil {
		return nil, nil, fmt.Errorf("dataplane: raise RLIMIT_MEMLOCK (needed before 5.11): %w", err)
	}
	if err := ensureBPFFS(cfg.BPFFSRoot); err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(cfg.PinDir(), 0o700); err != nil {
		return nil, nil, fmt.Errorf("dataplane: create pin directory: %w", err)
	}
	s, err := spec(cfg)
	if err != nil {
		return nil, nil, err
	}
	coll, err := ebpf.NewCollectionWithOptions(s, ebpf.CollectionOptions{
		Maps: ebpf.MapOptions{PinPath: cfg.PinDir()},
	})
	if errors.Is(err, ebpf.ErrMapIncompatible) {
		return nil, nil, fmt.Errorf("dataplane: pinned maps in %s do not match this configuration (map sizes or a newer layout): %w; keep the sizes, or run `weir dataplane --cleanup --instance %s` (drops the instance's connections)", cfg.PinDir(), err, cfg.Instance)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("dataplane: load BPF programs: %+v", err)
	}
	return coll, s, nil
}

// ensureBPFFS mounts bpffs at root unless it is mounted there already.
func ensureBPFFS(root string) error {
	var st unix.Statfs_t
	if err := unix.Statfs(root, &st); err == nil && st.Type == unix.BPF_FS_MAGIC {
		return nil
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return fmt.Errorf("dataplane: create %s: %w", root, err)
	}
	if err := unix.Mount("bpf", root, "bpf", 0, "mode=0700"); err != nil {
		return fmt.Errorf("dataplane: mount bpffs at %s: %w (needs CAP_SYS_ADMIN; or mount it: mount -t bpf bpf %s)", root, err, root)
	}
	return nil
}
