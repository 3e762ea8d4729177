package node

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// RouteProtocol marks the routes the agent owns (rtm_protocol), so a
// restarted agent finds and adopts them, and never touches others.
const RouteProtocol netlink.RouteProtocol = 0x57 // 'W'

// NetlinkRoutes programs direct routes (pod CIDR via node IP on the
// underlay link) in one network namespace.
type NetlinkRoutes struct {
	h      *netlink.Handle
	link   string
	onlink bool // next hops are onlink (VXLAN mode: no address on the device)
}

// NewNetlinkRoutes opens netlink in the named network namespace ("" for
// the agent's own) for routes over link.
func NewNetlinkRoutes(nsName, link string) (*NetlinkRoutes, error) {
	ns := netns.None()
	if nsName != "" {
		var err error
		if ns, err = netns.GetFromName(nsName); err != nil {
			return nil, fmt.Errorf("open network namespace %s: %w", nsName, err)
		}
		defer ns.Close()
	}
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return nil, fmt.Errorf("netlink in namespace %q: %w", nsName, err)
	}
	return &NetlinkRoutes{h: h, link: link}, nil
}

// Close releases the netlink socket.
func (r *NetlinkRoutes) Close() { r.h.Close() }

// Reconcile makes the agent's routes equal to want: replace what is
// missing or different, delete the agent's routes no longer wanted.
func (r *NetlinkRoutes) Reconcile(want []Route) error {
	l, err := r.h.LinkByName(r.link)
	if err != nil {
		return fmt.Errorf("underlay link %s: %w", r.link, err)
	}
	have, err := r.h.RouteListFiltered(netlink.FAMILY_ALL, &netlink.Route{Protocol: RouteProtocol, Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_PROTOCOL|netlink.RT_FILTER_TABLE)
	if err != nil {
		return fmt.Errorf("list routes: %w", err)
	}
	wanted := map[netip.Prefix]netip.Addr{}
	for _, w := range want {
		wanted[w.PodCIDR] = w.NodeIP
	}
	current := map[netip.Prefix]bool{}
	for _, rt := range have {
		dst, ok := prefixOf(rt.Dst)
		gw, _ := netip.AddrFromSlice(rt.Gw)
		if ok && wanted[dst] == gw.Unmap() && rt.LinkIndex == l.Attrs().Index {
			current[dst] = true
			continue
		}
		if err := r.h.RouteDel(&rt); err != nil {
			return fmt.Errorf("delete route %s: %w", rt.Dst, err)
		}
	}
	for dst, gw := range wanted {
		if current[dst] {
			continue
		}
		rt := &netlink.Route{LinkIndex: l.Attrs().Index, Dst: ipNet(dst), Gw: gw.AsSlice(), Protocol: RouteProtocol, Table: unix.RT_TABLE_MAIN}
		if r.onlink {
			rt.Flags = int(netlink.FLAG_ONLINK)
		}
		if err := r.h.RouteReplace(rt); err != nil {
			return fmt.Errorf("route %s via %s dev %s: %w", dst, gw, r.link, err)
		}
	}
	return nil
}

func prefixOf(n *net.IPNet) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false
	}
	a, ok := netip.AddrFromSlice(n.IP)
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(a.Unmap(), ones), ok
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}
