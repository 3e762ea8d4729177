package cni

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/containernetworking/plugins/pkg/netlinksafe"
	"github.com/containernetworking/plugins/pkg/utils/sysctl"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

func hostPrefix(a netip.Addr) *net.IPNet {
	return &net.IPNet{IP: a.AsSlice(), Mask: net.CIDRMask(32, 32)}
}

var defaultDst = &net.IPNet{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)}

// configureContainer runs inside the container's netns.
func configureContainer(ifName string, addr, gw netip.Addr) error {
	link, err := netlinksafe.LinkByName(ifName)
	if err != nil {
		return fmt.Errorf("look up %s: %w", ifName, err)
	}
	if err := netlink.LinkSetUp(link); err != nil {
		return fmt.Errorf("set %s up: %w", ifName, err)
	}
	if err := netlink.AddrAdd(link, &netlink.Addr{IPNet: hostPrefix(addr)}); err != nil {
		return fmt.Errorf("add %s/32 to %s: %w", addr, ifName, err)
	}
	idx := link.Attrs().Index
	gwRoute := &netlink.Route{LinkIndex: idx, Dst: hostPrefix(gw), Scope: netlink.SCOPE_LINK}
	if err := addRoute(gwRoute); err != nil {
		return fmt.Errorf("add route %s/32 dev %s: %w", gw, ifName, err)
	}
	def := &netlink.Route{LinkIndex: idx, Dst: defaultDst, Gw: gw.AsSlice()}
	if err := addRoute(def); err != nil {
		return fmt.Errorf("add default route via %s dev %s: %w", gw, ifName, err)
	}
	return nil
}

// addRoute adds r. When the same network is attached to a container twice
// (another CNI_IFNAME), the first interface already holds these routes:
// the later one gets them with a higher metric (100 + its ifindex), as a
// fallback that does not take over the container's default route.
func addRoute(r *netlink.Route) error {
	err := netlink.RouteAdd(r)
	if errors.Is(err, unix.EEXIST) {
		r.Priority = 100 + r.LinkIndex
		err = netlink.RouteAdd(r)
	}
	return err
}

// configureHost runs in the plugin's (the host's) netns. Every host veth
// carries the gateway address as a /32; the host answers the pods' ARP for
// it on each veth and routes each pod address to its veth.
func configureHost(hostName string, addr, gw netip.Addr) error {
	link, err := netlinksafe.LinkByName(hostName)
	if err != nil {
		return fmt.Errorf("look up host veth %s: %w", hostName, err)
	}
	if err := netlink.AddrAdd(link, &netlink.Addr{IPNet: hostPrefix(gw)}); err != nil {
		return fmt.Errorf("add gateway %s/32 to %s: %w", gw, hostName, err)
	}
	r := &netlink.Route{LinkIndex: link.Attrs().Index, Dst: hostPrefix(addr), Scope: netlink.SCOPE_LINK, Src: gw.AsSlice()}
	if err := netlink.RouteAdd(r); err != nil {
		return fmt.Errorf("add route %s/32 dev %s: %w", addr, hostName, err)
	}
	return enableForwarding()
}

// enableForwarding turns on IPv4 forwarding in the host netns: pods reach
// each other and the world through the host.
func enableForwarding() error {
	const key = "net/ipv4/ip_forward"
	if v, err := sysctl.Sysctl(key); err == nil && v == "1" {
		return nil
	}
	if _, err := sysctl.Sysctl(key, "1"); err != nil {
		return fmt.Errorf("enable %s: %w", key, err)
	}
	return nil
}
