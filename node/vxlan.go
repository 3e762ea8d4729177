package node

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Route modes of the agent (Config.RouteMode).
const (
	RouteModeDirect = "direct" // pod CIDR via node IP on the underlay (nodes share an L2)
	RouteModeVXLAN  = "vxlan"  // pod CIDR via node IP onlink over a VXLAN device
)

// VXLAN defaults: the device name, VNI and the Linux kernel's UDP port.
const (
	VXLANDevice   = "weir.vxlan"
	VXLANVNI      = 1
	VXLANPort     = 8472
	vxlanOverhead = 50 // outer IPv4 + UDP + VXLAN + inner Ethernet
)

// VXLANRoutes programs an overlay for nodes that do not share an L2: a
// VXLAN device (VNI 1) bound to the underlay link, one all-zero-MAC FDB
// entry per remote node (ARP and unknown unicast are sent to every remote
// node; replies are learned), and routes to remote pod CIDRs via the
// remote node IP, onlink on the VXLAN device. Owned routes carry
// RouteProtocol like direct routes; a restarted agent adopts the device,
// the FDB and the routes and reconciles them.
type VXLANRoutes struct {
	routes *NetlinkRoutes
	dev    string
}

// NewVXLANRoutes creates (or adopts) the VXLAN device in the named netns
// ("" = the agent's own), bound to underlay with local address local.
func NewVXLANRoutes(nsName, underlay string, local netip.Addr, port int) (*VXLANRoutes, error) {
	r, err := NewNetlinkRoutes(nsName, VXLANDevice)
	if err != nil {
		return nil, err
	}
	r.onlink = true
	if port <= 0 {
		port = VXLANPort
	}
	if err := ensureVXLAN(r.h, underlay, local, port); err != nil {
		r.Close()
		return nil, err
	}
	return &VXLANRoutes{routes: r, dev: VXLANDevice}, nil
}

// Close releases the netlink socket; the device, FDB and routes stay.
func (v *VXLANRoutes) Close() { v.routes.Close() }

func ensureVXLAN(h *netlink.Handle, underlay string, local netip.Addr, port int) error {
	ul, err := h.LinkByName(underlay)
	if err != nil {
		return fmt.Errorf("underlay link %s: %w", underlay, err)
	}
	want := &netlink.Vxlan{LinkAttrs: netlink.LinkAttrs{Name: VXLANDevice, MTU: ul.Attrs().MTU - vxlanOverhead},
		VxlanId: VXLANVNI, VtepDevIndex: ul.Attrs().Index, SrcAddr: local.AsSlice(), Port: port, Learning: true}
	if l, err := h.LinkByName(VXLANDevice); err == nil {
		have, ok := l.(*netlink.Vxlan)
		if ok && have.VxlanId == want.VxlanId && have.VtepDevIndex == want.VtepDevIndex && have.Port == port && have.SrcAddr.Equal(want.SrcAddr) {
			return h.LinkSetUp(l)
		}
		if err := h.LinkDel(l); err != nil { // a different overlay: replace it
			return fmt.Errorf("replace %s: %w", VXLANDevice, err)
		}
	}
	if err := h.LinkAdd(want); err != nil {
		return fmt.Errorf("create %s (VNI %d, port %d, dev %s): %w", VXLANDevice, VXLANVNI, port, underlay, err)
	}
	l, err := h.LinkByName(VXLANDevice)
	if err != nil {
		return err
	}
	if err := h.LinkSetUp(l); err != nil {
		return fmt.Errorf("set %s up: %w", VXLANDevice, err)
	}
	return nil
}

// Reconcile makes the FDB hold exactly the remote node IPs of want, then
// the routes equal to want.
func (v *VXLANRoutes) Reconcile(want []Route) error {
	if err := v.reconcileFDB(want); err != nil {
		return err
	}
	return v.routes.Reconcile(want)
}

var zeroMAC = net.HardwareAddr{0, 0, 0, 0, 0, 0}

func (v *VXLANRoutes) reconcileFDB(want []Route) error {
	h := v.routes.h
	l, err := h.LinkByName(v.dev)
	if err != nil {
		return fmt.Errorf("%s: %w (restart the agent to recreate it)", v.dev, err)
	}
	wanted := map[netip.Addr]bool{}
	for _, r := range want {
		wanted[r.NodeIP.Unmap()] = true
	}
	have, err := h.NeighList(l.Attrs().Index, unix.AF_BRIDGE)
	if err != nil {
		return fmt.Errorf("list FDB of %s: %w", v.dev, err)
	}
	var errs []error
	for _, n := range have {
		ip, ok := netip.AddrFromSlice(n.IP)
		if !ok || n.HardwareAddr.String() != zeroMAC.String() {
			continue // learned entries age out by themselves
		}
		if wanted[ip.Unmap()] {
			delete(wanted, ip.Unmap())
			continue
		}
		if err := h.NeighDel(&n); err != nil {
			errs = append(errs, fmt.Errorf("delete FDB entry %s: %w", ip, err))
		}
	}
	for ip := range wanted {
		n := &netlink.Neigh{LinkIndex: l.Attrs().Index, Family: unix.AF_BRIDGE, Flags: netlink.NTF_SELF,
			State: netlink.NUD_PERMANENT, HardwareAddr: zeroMAC, IP: ip.AsSlice()}
		if err := h.NeighAppend(n); err != nil {
			errs = append(errs, fmt.Errorf("FDB entry 00:00:00:00:00:00 dst %s dev %s: %w", ip, v.dev, err))
		}
	}
	return errors.Join(errs...)
}

// openRoutes opens the routes of the configured mode.
func (a *Agent) openRoutes() error {
	if a.cfg.RouteMode != RouteModeVXLAN {
		r, err := NewNetlinkRoutes(a.cfg.Netns, a.cfg.UnderlayIface)
		if err != nil {
			return err
		}
		a.rec.Routes = r
		a.closers = append(a.closers, r.Close)
		return nil
	}
	local := parseAddrs(a.cfg.Addresses)
	if len(local) == 0 {
		return errors.New("agent: VXLAN mode needs the node's IPv4 address on the underlay link")
	}
	v, err := NewVXLANRoutes(a.cfg.Netns, a.cfg.UnderlayIface, local[0], a.cfg.VXLANPort)
	if err != nil {
		return err
	}
	a.rec.Routes = v
	a.closers = append(a.closers, v.Close)
	if a.cfg.MTU == 0 { // pods must fit the overlay
		if l, err := v.routes.h.LinkByName(VXLANDevice); err == nil {
			a.cfg.MTU = l.Attrs().MTU
		}
	}
	return nil
}
