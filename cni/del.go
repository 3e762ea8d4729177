package cni

import (
	"github.com/containernetworking/cni/pkg/skel"

	"github.com/weirnet/weir/cni/ipam"
)

// Del removes an attachment. It never needs the container's netns:
// deleting the host veth (found by name) removes the pair, then the
// address is released. Whatever is already gone counts as done, so DEL
// can be repeated and succeeds after the netns, the link or the
// allocation disappeared.
func (p *Plugin) Del(args *skel.CmdArgs) error {
	conf, err := ParseConfig(args.StdinData)
	if err != nil {
		return err
	}
	if err := deleteHostVeth(HostVethName(args.ContainerID, args.IfName)); err != nil {
		return err
	}
	return release(conf, ipam.Key{ContainerID: args.ContainerID, IfName: args.IfName})
}
