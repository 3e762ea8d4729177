package cni

import (
	"errors"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"

	"github.com/weirnet/weir/cni/ipam"
)

// GC releases every allocation whose attachment is not in
// cni.dev/valid-attachments and removes its host veth if one is left. It
// goes on after a failure and reports all of them at the end.
func (p *Plugin) GC(args *skel.CmdArgs) error {
	conf, err := ParseConfig(args.StdinData)
	if err != nil {
		return err
	}
	var stale []ipam.Allocation
	err = withStore(conf, func(s *ipam.Store) error {
		all, err := s.List()
		stale = ipam.Stale(all, conf.ValidAttachments)
		return err
	})
	if err != nil {
		return err
	}
	var errs []error
	toRelease := make([]ipam.Allocation, 0, len(stale))
	for _, a := range stale {
		if err := deleteHostVeth(HostVethName(a.Key.ContainerID, a.Key.IfName)); err != nil {
			errs = append(errs, err)
			continue // keep the allocation: its link still exists
		}
		toRelease = append(toRelease, a)
	}
	if err := withStore(conf, func(s *ipam.Store) error { _, err := s.ReleaseAll(toRelease); return err }); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return newError(types.ErrInternal, "GC of network %s released %d of %d stale attachments: %v", conf.Name, len(toRelease), len(stale), err)
	}
	return nil
}
