package cni

import (
	"fmt"
	"net"
	"net/netip"

	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/plugins/pkg/netlinksafe"
	"github.com/vishvananda/netlink"
)

// checkContainerLink runs inside the container's netns.
func checkContainerLink(conf *Config, want *current.Interface, addr, gw netip.Addr) (netlink.Link, error) {
	link, err := vethByName(want.Name)
	if err != nil {
		return nil, err
	}
	a := link.Attrs()
	if want.Mac != "" && a.HardwareAddr.String() != want.Mac {
		return nil, fmt.Errorf("MAC is %s, prevResult says %s", a.HardwareAddr, want.Mac)
	}
	if conf.MTU != 0 && a.MTU != conf.MTU {
		return nil, fmt.Errorf("MTU is %d, field \"mtu\" says %d", a.MTU, conf.MTU)
	}
	if a.Flags&net.FlagUp == 0 {
		return nil, fmt.Errorf("link is down")
	}
	if err := hasAddr(link, addr); err != nil {
		return nil, err
	}
	if err := hasRoute(link, hostPrefix(gw), nil); err != nil {
		return nil, err
	}
	return link, hasRoute(link, nil, gw.AsSlice())
}

// checkHostLink runs in the host netns.
func checkHostLink(want *current.Interface, peerIndex int, addr, gw netip.Addr) (netlink.Link, error) {
	link, err := vethByName(want.Name)
	if err != nil {
		return nil, err
	}
	if want.Mac != "" && link.Attrs().HardwareAddr.String() != want.Mac {
		return nil, fmt.Errorf("MAC is %s, prevResult says %s", link.Attrs().HardwareAddr, want.Mac)
	}
	peer, err := netlink.VethPeerIndex(link.(*netlink.Veth))
	if err != nil {
		return nil, fmt.Errorf("read veth peer: %w", err)
	}
	if peer != peerIndex {
		return nil, fmt.Errorf("peer is ifindex %d, not the container interface (%d)", peer, peerIndex)
	}
	if err := hasAddr(link, gw); err != nil {
		return nil, err
	}
	return link, hasRoute(link, hostPrefix(addr), nil)
}

func vethByName(name string) (netlink.Link, error) {
	link, err := netlinksafe.LinkByName(name)
	if err != nil {
		return nil, fmt.Errorf("link missing: %w", err)
	}
	if _, ok := link.(*netlink.Veth); !ok {
		return nil, fmt.Errorf("link is a %s, not a veth", link.Type())
	}
	return link, nil
}

func hasAddr(link netlink.Link, a netip.Addr) error {
	addrs, err := netlinksafe.AddrList(link, netlink.FAMILY_V4)
	if err != nil {
		return fmt.Errorf("list addresses: %w", err)
	}
	for _, x := range addrs {
		if x.IPNet.String() == hostPrefix(a).String() {
			return nil
		}
	}
	return fmt.Errorf("address %s/32 missing", a)
}

// hasRoute looks for a route on link to dst (nil: default route), via gw
// when gw is set.
func hasRoute(link netlink.Link, dst *net.IPNet, gw net.IP) error {
	routes, err := netlinksafe.RouteList(link, netlink.FAMILY_V4)
	if err != nil {
		return fmt.Errorf("list routes: %w", err)
	}
	for _, r := range routes {
		isDefault := r.Dst == nil || r.Dst.String() == defaultDst.String()
		dstOK := (dst == nil && isDefault) || (dst != nil && r.Dst != nil && r.Dst.String() == dst.String())
		if dstOK && (gw == nil || r.Gw.Equal(gw)) {
			return nil
		}
	}
	if dst == nil {
		return fmt.Errorf("default route via %s missing", gw)
	}
	return fmt.Errorf("route to %s missing", dst)
}
