package cni

import (
	"net"
	"net/netip"

	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"
)

// buildResult returns the ADD result: prevResult (when weir-cni is not
// first in a chain) with weir-cni's two interfaces, address and default
// route appended. The host veth has no sandbox; the container interface
// carries the netns path.
func buildResult(conf *Config, netnsPath string, w wired, addr netip.Addr) *current.Result {
	res := &current.Result{CNIVersion: current.ImplementedSpecVersion}
	if conf.PrevResult != nil {
		res = conf.PrevResult
	}
	mtu := func(v int) int { // interface MTUs exist in results from 1.1.0 on
		if conf.CNIVersion == "1.0.0" {
			return 0
		}
		return v
	}
	hostIdx := len(res.Interfaces)
	contIdx := hostIdx + 1
	res.Interfaces = append(res.Interfaces,
		&current.Interface{Name: w.host.Name, Mac: w.host.HardwareAddr.String(), Mtu: mtu(w.host.MTU)},
		&current.Interface{Name: w.cont.Name, Mac: w.cont.HardwareAddr.String(), Mtu: mtu(w.cont.MTU), Sandbox: netnsPath},
	)
	gw := net.IP(conf.Range.Gateway().AsSlice())
	res.IPs = append(res.IPs, &current.IPConfig{Interface: current.Int(contIdx), Address: *hostPrefix(addr), Gateway: gw})
	res.Routes = append(res.Routes, &types.Route{Dst: *defaultDst, GW: gw})
	if res.DNS.IsEmpty() {
		res.DNS = conf.DNS
	}
	return res
}

// ours finds weir-cni's part of a result: the index of the container
// interface named ifName in netnsPath, the host veth, and the container's
// IPv4 address.
func ours(res *current.Result, netnsPath, ifName, hostName string) (cont *current.Interface, host *current.Interface, addr netip.Addr) {
	contIdx := -1
	for i, itf := range res.Interfaces {
		switch {
		case itf.Name == ifName && itf.Sandbox == netnsPath:
			cont, contIdx = itf, i
		case itf.Name == hostName && itf.Sandbox == "":
			host = itf
		}
	}
	for _, ipc := range res.IPs {
		if ipc.Interface != nil && *ipc.Interface == contIdx && contIdx >= 0 {
			if a, ok := netip.AddrFromSlice(ipc.Address.IP.To4()); ok {
				addr = a
			}
		}
	}
	return cont, host, addr
}
