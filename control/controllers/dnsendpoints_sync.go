package controllers

import (
	"context"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/weirnet/weir/control/controllers/kube"
)

// syncDNSEndpoints keeps kube-system/kube-dns-nodes equal to
// PlanDNSEndpoints; without the kube-dns service it does nothing (the
// garbage collector removes a slice whose service went away).
func (m *Manager) syncDNSEndpoints(ctx context.Context, _ time.Time) {
	svc, ok := m.inf.services.Get(DNSNamespace, DNSService)
	if !ok {
		return
	}
	want := PlanDNSEndpoints(svc, m.inf.nodes.List())
	cur, ok := m.inf.slices.Get(DNSNamespace, DNSSlice)
	out := &discoveryv1.EndpointSlice{}
	var err error
	switch {
	case !ok:
		err = m.c.Create(ctx, kube.EndpointSlices, DNSNamespace, want, out)
	case sameSlice(cur, want):
		return
	default:
		want.ResourceVersion = cur.ResourceVersion
		err = m.c.Update(ctx, kube.EndpointSlices, DNSNamespace, DNSSlice, want, out)
	}
	if err != nil {
		m.warnUnlessRace("write the DNS endpointslice", want, err)
		return
	}
	m.inf.slices.Observe(out)
}
