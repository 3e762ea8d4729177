package controllers

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/weirnet/weir/control/controllers/kube"
)

// watchDNSEndpoints feeds the DNS endpoints controller (one key, the
// kube-dns service): any node change, and changes to the service or its
// slice.
func (m *Manager) watchDNSEndpoints(h *handlers) {
	key := kube.Key(DNSNamespace, DNSService)
	h.onAny(m.in.nodes, func(any) { m.loops.dnsendpoints.add(key) })
	h.onAny(m.in.services, func(obj any) {
		if keyOf(obj) == key {
			m.loops.dnsendpoints.add(key)
		}
	})
	h.onAny(m.in.slices, func(obj any) {
		if keyOf(obj) == kube.Key(DNSNamespace, DNSSlice) {
			m.loops.dnsendpoints.add(key)
		}
	})
}

// syncDNSEndpoints keeps kube-system/kube-dns-nodes equal to
// PlanDNSEndpoints; without the kube-dns service it does nothing (the
// garbage collector removes a slice whose service went away).
func (m *Manager) syncDNSEndpoints(ctx context.Context, _ string, _ time.Time) (time.Duration, error) {
	svc, err := m.in.svcLister.Services(DNSNamespace).Get(DNSService)
	if err != nil {
		return 0, nil
	}
	nodes, err := m.in.nodeLister.List(labels.Everything())
	if err != nil {
		return 0, err
	}
	want := PlanDNSEndpoints(svc, nodes)
	cur, err := m.in.sliceLister.EndpointSlices(DNSNamespace).Get(DNSSlice)
	if err != nil {
		cur = nil
	}
	if cur != nil && sameSlice(cur, want) {
		return 0, nil
	}
	if err := m.writeSlice(ctx, cur, want); err != nil {
		m.warnUnlessRace("write the DNS endpointslice", want, err)
		return 0, err
	}
	return 0, nil
}
