package api

import (
	"context"
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"

	"github.com/weirnet/weir/control/store"
)

// planService adds to p the allocations svc needs and the releases of what
// old (nil on create) held and svc no longer does. Requested values are
// honoured when free and in range, refused with 422 otherwise. In dry-run
// nothing is picked and p is not used.
func (a *allocator) planService(ctx context.Context, st store.Interface, p *plan, svc, old *corev1.Service, dryRun bool) error {
	if err := a.planIP(ctx, st, p, svc, old, dryRun); err != nil {
		return err
	}
	return a.planPorts(ctx, st, p, svc, old, dryRun)
}

func (a *allocator) planIP(ctx context.Context, st store.Interface, p *plan, svc, old *corev1.Service, dryRun bool) error {
	oldIP := ""
	if old != nil && needsIP(old) {
		oldIP = old.Spec.ClusterIP
	}
	ip := svc.Spec.ClusterIP
	switch {
	case !needsIP(svc) || ip != "" && ip == oldIP:
	case ip == "" && dryRun:
	case ip == "":
		picked, err := a.pickIP(ctx, st, svc.Name)
		if err != nil {
			return storeError(err, svcResource, svc.Name)
		}
		ip = picked
		svc.Spec.ClusterIP = ip
		p.cond(store.Cond{Kind: store.MustNotExist, Key: ipKey(ip)}, nil)
		p.put(ipKey(ip), owner(svc))
	default:
		addr, err := netip.ParseAddr(ip)
		if err != nil || !a.usable(addr) {
			return errInvalidField(svc.Name, "spec.clusterIP", ip, fmt.Sprintf("provided IP is not in the valid range; the range of valid IPs is %s", a.cidr))
		}
		ip = addr.String()
		svc.Spec.ClusterIP = ip
		p.cond(store.Cond{Kind: store.MustNotExist, Key: ipKey(ip)},
			fail(errInvalidField(svc.Name, "spec.clusterIP", ip, "provided IP is already allocated")))
		p.put(ipKey(ip), owner(svc))
	}
	if needsIP(svc) && svc.Spec.ClusterIP != "" {
		svc.Spec.ClusterIPs = []string{svc.Spec.ClusterIP}
	}
	if oldIP != "" && oldIP != svc.Spec.ClusterIP {
		p.del(ipKey(oldIP))
	}
	return nil
}

func (a *allocator) planPorts(ctx context.Context, st store.Interface, p *plan, svc, old *corev1.Service, dryRun bool) error {
	held := map[int32]bool{}
	if old != nil && needsNodePorts(old) {
		for _, op := range old.Spec.Ports {
			if op.NodePort != 0 {
				held[op.NodePort] = true
			}
		}
	}
	want := map[int32]bool{}
	if needsNodePorts(svc) {
		for i := range svc.Spec.Ports {
			if err := a.planPort(ctx, st, p, svc, &svc.Spec.Ports[i], held, want, dryRun); err != nil {
				return err
			}
		}
	}
	for np := range held {
		if !want[np] {
			p.del(portKey(np))
		}
	}
	return nil
}

func (a *allocator) planPort(ctx context.Context, st store.Interface, p *plan, svc *corev1.Service, sp *corev1.ServicePort, held, want map[int32]bool, dryRun bool) error {
	np := sp.NodePort
	onFail := fail(errInvalidField(svc.Name, "spec.ports.nodePort", fmt.Sprint(np), "provided port is already allocated"))
	switch {
	case np == 0 && dryRun:
		return nil
	case np == 0:
		picked, err := a.pickPort(ctx, st, svc.Name, want)
		if err != nil {
			return storeError(err, svcResource, svc.Name)
		}
		np, onFail = picked, nil
		sp.NodePort = np
	case int(np) < a.portMin || int(np) > a.portMax:
		return errInvalidField(svc.Name, "spec.ports.nodePort", fmt.Sprint(np), fmt.Sprintf("provided port is not in the valid range; the range of valid ports is %d-%d", a.portMin, a.portMax))
	}
	if want[np] || held[np] {
		want[np] = true
		return nil
	}
	want[np] = true
	p.cond(store.Cond{Kind: store.MustNotExist, Key: portKey(np)}, onFail)
	p.put(portKey(np), owner(svc))
	return nil
}

// release adds to p the deletion of everything svc holds.
func (a *allocator) release(p *plan, svc *corev1.Service) {
	if needsIP(svc) && svc.Spec.ClusterIP != "" {
		p.del(ipKey(svc.Spec.ClusterIP))
	}
	if !needsNodePorts(svc) {
		return
	}
	seen := map[int32]bool{}
	for _, sp := range svc.Spec.Ports {
		if sp.NodePort != 0 && !seen[sp.NodePort] {
			seen[sp.NodePort] = true
			p.del(portKey(sp.NodePort))
		}
	}
}

// owner is the value of an allocation key: the service holding it.
func owner(svc *corev1.Service) []byte {
	return []byte(`{"service":"` + svc.Namespace + "/" + svc.Name + `"}`)
}

// svcResource names services in errors raised by the allocator.
var svcResource = &resource{kindInfo: kindInfo{Version: "v1", Kind: "Service", Plural: "services", Singular: "service"}}
