package cni

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"unsafe"

	"github.com/containernetworking/plugins/pkg/netlinksafe"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// FilterName is the name of the tc filter weir-cni attaches on the host
// veth's clsact ingress (packets leaving the pod).
const FilterName = "weir-tc-pod"

// PinnedProgram is where the dataplane pins the per-packet program that
// weir-cni attaches to each pod's host veth.
func PinnedProgram(bpffs, instance string) string {
	return filepath.Join(bpffs, "weir", instance, "prog_tc_pod")
}

// openPinned returns an fd for the pinned object at path via the raw
// bpf(BPF_OBJ_GET) syscall (only dataplane/ imports cilium/ebpf). ok is
// false when nothing is pinned there (no dataplane on this node, or bpffs
// not mounted): weir-cni then works without programs.
func openPinned(path string) (fd int, ok bool, err error) {
	p, err := unix.BytePtrFromString(path)
	if err != nil {
		return -1, false, fmt.Errorf("pinned program path %q: %w", path, err)
	}
	attr := struct {
		pathname  uint64
		bpfFD     uint32
		fileFlags uint32
	}{pathname: uint64(uintptr(unsafe.Pointer(p)))}
	r, _, errno := unix.Syscall(unix.SYS_BPF, unix.BPF_OBJ_GET, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	runtime.KeepAlive(p)
	switch {
	case errno == unix.ENOENT:
		return -1, false, nil
	case errno != 0:
		return -1, false, fmt.Errorf("open pinned program %s: %w", path, errno)
	}
	return int(r), true, nil
}

// attachPrograms attaches the dataplane's pinned per-packet program to the
// host veth's clsact ingress (direct-action), when the dataplane pinned one.
func (p *Plugin) attachPrograms(conf *Config, hostName string) error {
	if !conf.AttachPrograms {
		return nil
	}
	path := PinnedProgram(p.BPFFS, conf.DataplaneInstance)
	fd, ok, err := openPinned(path)
	if err != nil || !ok {
		return err
	}
	defer unix.Close(fd)
	link, err := netlinksafe.LinkByName(hostName)
	if err != nil {
		return fmt.Errorf("look up host veth %s: %w", hostName, err)
	}
	idx := link.Attrs().Index
	qdisc := &netlink.GenericQdisc{
		QdiscAttrs: netlink.QdiscAttrs{LinkIndex: idx, Handle: netlink.MakeHandle(0xffff, 0), Parent: netlink.HANDLE_CLSACT},
		QdiscType:  "clsact",
	}
	if err := netlink.QdiscReplace(qdisc); err != nil {
		return fmt.Errorf("add clsact qdisc to %s: %w", hostName, err)
	}
	filter := &netlink.BpfFilter{
		FilterAttrs: netlink.FilterAttrs{LinkIndex: idx, Parent: netlink.HANDLE_MIN_INGRESS,
			Handle: netlink.MakeHandle(0, 1), Protocol: unix.ETH_P_ALL, Priority: 1},
		Fd: fd, Name: FilterName, DirectAction: true,
	}
	if err := netlink.FilterReplace(filter); err != nil {
		return fmt.Errorf("attach %s to %s ingress: %w (the pinned object must be a SCHED_CLS program)", path, hostName, err)
	}
	return nil
}

// checkAttached verifies that the program is attached when the dataplane
// has one pinned.
func (p *Plugin) checkAttached(conf *Config, link netlink.Link) error {
	if !conf.AttachPrograms {
		return nil
	}
	fd, ok, err := openPinned(PinnedProgram(p.BPFFS, conf.DataplaneInstance))
	if err != nil || !ok {
		return err
	}
	unix.Close(fd)
	filters, err := netlinksafe.FilterList(link, netlink.HANDLE_MIN_INGRESS)
	if err != nil {
		return fmt.Errorf("list ingress filters of %s: %w", link.Attrs().Name, err)
	}
	for _, f := range filters {
		if bf, ok := f.(*netlink.BpfFilter); ok && bf.Name == FilterName && bf.DirectAction {
			return nil
		}
	}
	return errors.New("host veth " + link.Attrs().Name + " has no " + FilterName + " filter on ingress although the dataplane pinned one: DEL and ADD the pod again")
}
