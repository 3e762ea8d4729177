package cni

import (
	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/plugins/pkg/ns"

	"github.com/weirnet/weir/cni/ipam"
)

// Add wires a container: IPAM first (recorded durably), then the veth
// pair, addresses, routes and dataplane programs. A failure after the
// allocation undoes what was done. Because the allocation comes first and
// DEL removes links before releasing, a host veth never exists without its
// allocation, so GC of allocations also finds every leaked link.
func (p *Plugin) Add(args *skel.CmdArgs) error {
	conf, err := ParseConfig(args.StdinData)
	if err != nil {
		return err
	}
	netns, err := ns.GetNS(args.Netns)
	if err != nil {
		return newError(types.ErrInvalidEnvironmentVariables, "CNI_NETNS=%s is not a usable network namespace: %v: pass the path of the container's netns", args.Netns, err)
	}
	defer netns.Close()
	if err := requireNoLink(netns, args.IfName); err != nil {
		return err
	}
	hostName := HostVethName(args.ContainerID, args.IfName)
	// A host veth of this attachment without its container side is left
	// over from an ADD that died; it is ours (the name derives from the
	// attachment), so remove it before creating the pair again.
	if err := deleteHostVeth(hostName); err != nil {
		return err
	}
	key := ipam.Key{ContainerID: args.ContainerID, IfName: args.IfName}
	addr, created, err := allocate(conf, key)
	if err != nil {
		return err
	}
	w, err := wire(conf, netns, args.IfName, hostName, addr)
	if err == nil {
		err = p.attachPrograms(conf, hostName)
	}
	if err != nil {
		_ = deleteHostVeth(hostName)
		if created {
			_ = release(conf, key)
		}
		return err
	}
	return types.PrintResult(buildResult(conf, args.Netns, w, addr), conf.CNIVersion)
}
