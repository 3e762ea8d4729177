package cni

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/containernetworking/plugins/pkg/ip"
	"github.com/containernetworking/plugins/pkg/netlinksafe"
	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// HostVethName names the host side of an attachment's veth pair:
// "weir" followed by the first 11 hex digits of
// sha256(containerID + "/" + ifname), 15 bytes, the kernel's limit. The name
// is a pure function of the attachment, so DEL and GC find the link without
// any other state.
func HostVethName(containerID, ifName string) string {
	sum := sha256.Sum256([]byte(containerID + "/" + ifName))
	return "weir" + hex.EncodeToString(sum[:])[:11]
}

// hostLinkFor returns the host-side veth of an attachment, nil when absent.
func hostLinkFor(name string) (netlink.Link, error) {
	l, err := netlinksafe.LinkByName(name)
	var nf netlink.LinkNotFoundError
	if errors.As(err, &nf) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up host veth %s: %w", name, err)
	}
	if l.Type() != "veth" {
		return nil, fmt.Errorf("host link %s is a %s, not the veth weir-cni creates: rename or remove it", name, l.Type())
	}
	return l, nil
}

// deleteHostVeth removes the host side of an attachment (the kernel removes
// the container side with it). A link that is already gone is success.
func deleteHostVeth(name string) error {
	l, err := hostLinkFor(name)
	if err != nil || l == nil {
		return err
	}
	if err := netlink.LinkDel(l); err != nil && !errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("delete host veth %s: %w", name, err)
	}
	return nil
}

// requireNoLink fails when ifName already exists in the container.
func requireNoLink(netns ns.NetNS, ifName string) error {
	return netns.Do(func(ns.NetNS) error {
		_, err := netlinksafe.LinkByName(ifName)
		var nf netlink.LinkNotFoundError
		switch {
		case errors.As(err, &nf):
			return nil
		case err != nil:
			return fmt.Errorf("look up CNI_IFNAME %s in %s: %w", ifName, netns.Path(), err)
		}
		return newError(4, "CNI_IFNAME=%s already exists in CNI_NETNS=%s: choose another interface name, or DEL the existing attachment first", ifName, netns.Path())
	})
}

// wired is what wire created.
type wired struct {
	host, cont net.Interface
}

// wire creates the veth pair with its container side inside netns, and
// configures addresses and routes on both sides:
//
//	container: <addr>/32 on ifName, <gw>/32 scope link, default via <gw>
//	host:      <gw>/32 on the host veth, <addr>/32 dev <host veth> scope link
func wire(conf *Config, netns ns.NetNS, ifName, hostName string, addr netip.Addr) (wired, error) {
	hostNS, err := ns.GetCurrentNS()
	if err != nil {
		return wired{}, fmt.Errorf("open host netns: %w", err)
	}
	defer hostNS.Close()
	var w wired
	gw := conf.Range.Gateway()
	err = netns.Do(func(ns.NetNS) error {
		w.host, w.cont, err = ip.SetupVethWithName(ifName, hostName, conf.MTU, "", hostNS)
		if err != nil {
			return fmt.Errorf("create veth %s/%s: %w", hostName, ifName, err)
		}
		return configureContainer(ifName, addr, gw)
	})
	if err != nil {
		return wired{}, err
	}
	if err := configureHost(hostName, addr, gw); err != nil {
		return wired{}, err
	}
	return w, nil
}
