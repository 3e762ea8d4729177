package cni

import (
	"net/netip"

	"github.com/weirnet/weir/cni/ipam"
)

// withStore opens the network's IPAM store for fn only, so the file lock
// is never held across netlink work. Failures come back as CNI errors.
func withStore(conf *Config, fn func(*ipam.Store) error) error {
	err := ipam.With(conf.DataDir, conf.Name, ipam.Options{LockTimeout: conf.LockTimeout}, fn)
	if err != nil {
		return ipamError(conf, err)
	}
	return nil
}

func allocate(conf *Config, key ipam.Key) (addr netip.Addr, created bool, err error) {
	err = withStore(conf, func(s *ipam.Store) error {
		addr, created, err = s.Allocate(conf.Range, key)
		return err
	})
	return addr, created, err
}

func release(conf *Config, key ipam.Key) error {
	return withStore(conf, func(s *ipam.Store) error {
		_, _, err := s.Release(key)
		return err
	})
}
