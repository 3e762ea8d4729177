package dataplane

import (
	"errors"
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// The per-packet programs are tc clsact filters in direct-action mode,
// attached through netlink (works on 5.10; tcx would need 6.6). Each
// instance owns one filter per direction, recognised by its name; a
// restarted instance replaces it in place, which is atomic.
const tcPriority = 1

func tcName(instance, dir string) string { return "weir:" + instance + ":" + dir }

func tcHandle(instance string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(instance))
	return h.Sum32()&0xfffffff | 0x1
}

// nlHandle opens netlink in cfg.Netns (or the current namespace).
func nlHandle(nsName string) (*netlink.Handle, error) {
	if nsName == "" {
		return netlink.NewHandle()
	}
	ns, err := netns.GetFromName(nsName)
	if err != nil {
		return nil, fmt.Errorf("dataplane: open netns %s: %w (list them with `ip netns`)", nsName, err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return nil, fmt.Errorf("dataplane: netlink in netns %s: %w", nsName, err)
	}
	return h, nil
}

func attachTC(cfg Config, coll *ebpf.Collection) error {
	if len(cfg.Interfaces) == 0 {
		return nil
	}
	h, err := nlHandle(cfg.Netns)
	if err != nil {
		return err
	}
	defer h.Close()
	for _, ifname := range cfg.Interfaces {
		if err := attachIface(h, cfg.Instance, ifname, coll); err != nil {
			return err
		}
	}
	return nil
}

func attachIface(h *netlink.Handle, instance, ifname string, coll *ebpf.Collection) error {
	l, err := h.LinkByName(ifname)
	if err != nil {
		return fmt.Errorf("dataplane: interface %s: %w", ifname, err)
	}
	q := &netlink.GenericQdisc{
		QdiscAttrs: netlink.QdiscAttrs{LinkIndex: l.Attrs().Index, Handle: netlink.MakeHandle(0xffff, 0), Parent: netlink.HANDLE_CLSACT},
		QdiscType:  "clsact",
	}
	if err := h.QdiscAdd(q); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("dataplane: add clsact qdisc to %s: %w", ifname, err)
	}
	for _, d := range []struct {
		dir, prog string
		parent    uint32
	}{{"ingress", lbProgTcIngress, netlink.HANDLE_MIN_INGRESS}, {"egress", lbProgTcEgress, netlink.HANDLE_MIN_EGRESS}} {
		f := &netlink.BpfFilter{
			FilterAttrs: netlink.FilterAttrs{
				LinkIndex: l.Attrs().Index, Parent: d.parent, Handle: tcHandle(instance),
				Protocol: unix.ETH_P_ALL, Priority: tcPriority,
			},
			Fd: coll.Programs[d.prog].FD(), Name: tcName(instance, d.dir), DirectAction: true,
		}
		if err := h.FilterReplace(f); err != nil {
			return fmt.Errorf("dataplane: attach %s to %s %s: %w", d.prog, ifname, d.dir, err)
		}
	}
	return nil
}

// detachTC removes the instance's filters from the interfaces; the clsact
// qdisc goes too when no other filter is left on it.
func detachTC(cfg Config) error {
	if len(cfg.Interfaces) == 0 {
		return nil
	}
	h, err := nlHandle(cfg.Netns)
	if err != nil {
		return err
	}
	defer h.Close()
	var errs []error
	for _, ifname := range cfg.Interfaces {
		if err := detachIface(h, cfg.Instance, ifname); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func detachIface(h *netlink.Handle, instance, ifname string) error {
	l, err := h.LinkByName(ifname)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil // gone with its filters
		}
		return fmt.Errorf("dataplane: interface %s: %w", ifname, err)
	}
	others := 0
	for _, parent := range []uint32{netlink.HANDLE_MIN_INGRESS, netlink.HANDLE_MIN_EGRESS} {
		fs, err := h.FilterList(l, parent)
		if err != nil {
			return fmt.Errorf("dataplane: list filters of %s: %w", ifname, err)
		}
		for _, f := range fs {
			bf, ok := f.(*netlink.BpfFilter)
			if !ok || !strings.HasPrefix(bf.Name, tcName(instance, "")) {
				others++
				continue
			}
			if err := h.FilterDel(f); err != nil && !errors.Is(err, unix.ENOENT) {
				return fmt.Errorf("dataplane: remove filter %s from %s: %w", bf.Name, ifname, err)
			}
		}
	}
	if others == 0 {
		q := &netlink.GenericQdisc{
			QdiscAttrs: netlink.QdiscAttrs{LinkIndex: l.Attrs().Index, Handle: netlink.MakeHandle(0xffff, 0), Parent: netlink.HANDLE_CLSACT},
			QdiscType:  "clsact",
		}
		if err := h.QdiscDel(q); err != nil && !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("dataplane: remove clsact from %s: %w", ifname, err)
		}
	}
	return nil
}
