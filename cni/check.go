package cni

import (
	"fmt"
	"net/netip"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/plugins/pkg/ns"

	"github.com/weirnet/weir/cni/ipam"
)

// Check verifies an attachment against prevResult: the IPAM allocation,
// the container interface (veth, up, MAC, MTU, address, gateway and
// default routes), the host veth (peer of the container interface, gateway
// address, route to the pod) and, when the dataplane pinned a program, its
// attachment.
func (p *Plugin) Check(args *skel.CmdArgs) error {
	conf, err := ParseConfig(args.StdinData)
	if err != nil {
		return err
	}
	if conf.PrevResult == nil {
		return newError(types.ErrInvalidNetworkConfig, "field \"prevResult\" is missing: CHECK needs the result of the ADD")
	}
	hostName := HostVethName(args.ContainerID, args.IfName)
	cont, host, addr := ours(conf.PrevResult, args.Netns, args.IfName, hostName)
	if cont == nil || host == nil || !addr.IsValid() {
		return fmt.Errorf("prevResult lacks weir-cni's interfaces %s (host) and %s in %s with an IPv4 address: was the attachment added by weir-cni?", hostName, args.IfName, args.Netns)
	}
	if err := checkAllocation(conf, ipam.Key{ContainerID: args.ContainerID, IfName: args.IfName}, addr); err != nil {
		return err
	}
	netns, err := ns.GetNS(args.Netns)
	if err != nil {
		return newError(types.ErrUnknownContainer, "CNI_NETNS=%s is gone: %v", args.Netns, err)
	}
	defer netns.Close()
	var peerIndex int
	gw := conf.Range.Gateway()
	err = netns.Do(func(ns.NetNS) error {
		link, err := checkContainerLink(conf, cont, addr, gw)
		if err == nil {
			peerIndex = link.Attrs().Index
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("container side %s in %s: %w", args.IfName, args.Netns, err)
	}
	link, err := checkHostLink(host, peerIndex, addr, gw)
	if err != nil {
		return fmt.Errorf("host side %s: %w", hostName, err)
	}
	return p.checkAttached(conf, link)
}

func checkAllocation(conf *Config, key ipam.Key, want netip.Addr) error {
	var got netip.Addr
	var ok bool
	err := withStore(conf, func(s *ipam.Store) (err error) { got, ok, err = s.Lookup(key); return err })
	if err != nil {
		return err
	}
	if !ok || got != want {
		return fmt.Errorf("IPAM has %v (allocated: %v) for %s, prevResult says %s: DEL and ADD the pod again", got, ok, key, want)
	}
	return nil
}
