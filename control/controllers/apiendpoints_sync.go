package controllers

import (
	"context"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/weirnet/weir/control/controllers/kube"
)

// apiEndpointsEvery bounds how often the members are probed (each sync
// makes the serving member GET every member's /readyz).
const apiEndpointsEvery = 5 * time.Second

// syncAPIEndpoints keeps default/kubernetes's slice equal to
// PlanAPIEndpoints, at most every apiEndpointsEvery.
func (m *Manager) syncAPIEndpoints(ctx context.Context, now time.Time) {
	if now.Sub(m.apiEndpointsAt) < apiEndpointsEvery {
		return
	}
	m.apiEndpointsAt = now
	svc, ok := m.inf.services.Get(APINamespace, APIService)
	if !ok {
		return
	}
	members, err := m.c.Members(ctx)
	if err != nil {
		m.log.Warn("list members for the kubernetes service", "error", err)
		return
	}
	want := PlanAPIEndpoints(svc, members)
	cur, ok := m.inf.slices.Get(APINamespace, APISlice)
	out := &discoveryv1.EndpointSlice{}
	switch {
	case !ok:
		err = m.c.Create(ctx, kube.EndpointSlices, APINamespace, want, out)
	case sameSlice(cur, want):
		return
	default:
		want.ResourceVersion = cur.ResourceVersion
		err = m.c.Update(ctx, kube.EndpointSlices, APINamespace, APISlice, want, out)
	}
	if err != nil {
		m.warnUnlessRace("write the kubernetes endpointslice", want, err)
		return
	}
	m.inf.slices.Observe(out)
}
