package api

import (
	"context"
	"fmt"
	"math/big"
	"math/rand/v2"
	"net/netip"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/weirnet/weir/control/store"
)

// Bookkeeping resources: one key per allocated ClusterIP and NodePort,
// written in the same Txn as the Service, with MustNotExist conds, so two
// members can never hand out the same address or port.
const (
	ipResource   = "_clusterips"
	portResource = "_nodeports"
)

// maxScan bounds how many addresses one allocation looks at (IPv6 ranges
// are huge; the first 2^20 addresses after a random start are plenty).
const maxScan = 1 << 20

// allocator hands out ClusterIPs from the service CIDR and NodePorts from
// the node port range.
type allocator struct {
	cidr             netip.Prefix
	size             uint64 // usable addresses, capped at maxScan
	portMin, portMax int
}

func newAllocator(cidr, ports string) (*allocator, error) {
	p, err := parseServiceCIDR(cidr)
	if err != nil {
		return nil, err
	}
	lo, hi, err := parsePortRange(ports)
	if err != nil {
		return nil, err
	}
	hostBits := p.Addr().BitLen() - p.Bits()
	size := uint64(maxScan)
	if hostBits < 21 {
		size = uint64(1)<<hostBits - 1 // without the network address
		if p.Addr().Is4() {
			size-- // without the broadcast address
		}
	}
	return &allocator{cidr: p, size: size, portMin: lo, portMax: hi}, nil
}

// nth is the n-th usable address (0-based, after the network address).
func (a *allocator) nth(n uint64) netip.Addr {
	v := new(big.Int).SetBytes(a.cidr.Addr().AsSlice())
	v.Add(v, new(big.Int).SetUint64(n+1))
	b := v.FillBytes(make([]byte, len(a.cidr.Addr().AsSlice())))
	addr, _ := netip.AddrFromSlice(b)
	return addr
}

// usable reports whether ip may be a ClusterIP: inside the CIDR, not the
// network address, not the IPv4 broadcast address.
func (a *allocator) usable(ip netip.Addr) bool {
	if !a.cidr.Contains(ip) || ip == a.cidr.Addr() {
		return false
	}
	if ip.Is4() {
		last := a.nth(a.size) // one past the last usable: the broadcast address
		if a.cidr.Bits() <= 32 && ip == last {
			return false
		}
	}
	return true
}

func ipKey(ip string) store.Key { return store.Key{Resource: ipResource, Name: ip} }
func portKey(p int32) store.Key { return store.Key{Resource: portResource, Name: strconv.Itoa(int(p))} }

// taken lists the names of the allocations of one bookkeeping resource.
func taken(ctx context.Context, st store.Interface, resource string) (map[string]bool, error) {
	lr, err := st.List(ctx, store.ListOptions{Resource: resource})
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(lr.Objects))
	for _, o := range lr.Objects {
		out[o.Key.Name] = true
	}
	return out, nil
}

// pickIP picks a free address, scanning from a random start so that
// concurrent allocations on several members rarely collide.
func (a *allocator) pickIP(ctx context.Context, st store.Interface, name string) (string, error) {
	used, err := taken(ctx, st, ipResource)
	if err != nil {
		return "", err
	}
	start := rand.Uint64N(a.size)
	for i := uint64(0); i < a.size; i++ {
		ip := a.nth((start + i) % a.size).String()
		if !used[ip] {
			return ip, nil
		}
	}
	return "", errInvalidField(name, "spec.clusterIP", "", fmt.Sprintf("no free address left in the service CIDR %s: delete unused services or configure a larger range", a.cidr))
}

// pickPort picks a free node port not in exclude.
func (a *allocator) pickPort(ctx context.Context, st store.Interface, name string, exclude map[int32]bool) (int32, error) {
	used, err := taken(ctx, st, portResource)
	if err != nil {
		return 0, err
	}
	n := a.portMax - a.portMin + 1
	start := rand.IntN(n)
	for i := 0; i < n; i++ {
		p := int32(a.portMin + (start+i)%n)
		if !used[strconv.Itoa(int(p))] && !exclude[p] {
			return p, nil
		}
	}
	return 0, errInvalidField(name, "spec.ports.nodePort", "", fmt.Sprintf("no free node port left in %d-%d: delete unused NodePort services", a.portMin, a.portMax))
}

// errInvalidField is a 422 for one field of Service name.
func errInvalidField(name, path, value, msg string) *apierrors.StatusError {
	return errInvalid(svcResource, name, field.ErrorList{field.Invalid(field.NewPath(path), value, msg)})
}

// carryOverAllocations keeps the allocated ClusterIP and NodePorts of old
// where an update left them empty, like kube-apiserver.
func carryOverAllocations(svc, old *corev1.Service) {
	if svc.Spec.ClusterIP == "" && needsIP(svc) && needsIP(old) {
		svc.Spec.ClusterIP, svc.Spec.ClusterIPs = old.Spec.ClusterIP, old.Spec.ClusterIPs
	}
	if !needsNodePorts(svc) || !needsNodePorts(old) {
		return
	}
	for i := range svc.Spec.Ports {
		np := &svc.Spec.Ports[i]
		for _, op := range old.Spec.Ports {
			if np.NodePort == 0 && op.Port == np.Port && protocolOrTCP(op.Protocol) == protocolOrTCP(np.Protocol) {
				np.NodePort = op.NodePort
			}
		}
	}
}

func needsIP(svc *corev1.Service) bool {
	return svc.Spec.Type != corev1.ServiceTypeExternalName && svc.Spec.ClusterIP != corev1.ClusterIPNone
}

func needsNodePorts(svc *corev1.Service) bool {
	return svc.Spec.Type == corev1.ServiceTypeNodePort || svc.Spec.Type == corev1.ServiceTypeLoadBalancer
}

func protocolOrTCP(p corev1.Protocol) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return p
}
