package controllers

import (
	"context"
	"time"

	"github.com/weirnet/weir/control/controllers/kube"
)

// apiEndpointsEvery is how often the members are probed (each sync
// makes the serving member GET every member's /readyz); changes to the
// service or its slice bring a sync sooner.
const apiEndpointsEvery = 5 * time.Second

// watchAPIEndpoints feeds the API endpoints controller (one key, the
// kubernetes service): changes to the service or its slice; Run adds a
// tick every apiEndpointsEvery.
func (m *Manager) watchAPIEndpoints(h *handlers) {
	key := kube.Key(APINamespace, APIService)
	h.onAny(m.in.services, func(obj any) {
		if keyOf(obj) == key {
			m.loops.apiendpoints.add(key)
		}
	})
	h.onAny(m.in.slices, func(obj any) {
		if keyOf(obj) == kube.Key(APINamespace, APISlice) {
			m.loops.apiendpoints.add(key)
		}
	})
}

// syncAPIEndpoints keeps default/kubernetes's slice equal to
// PlanAPIEndpoints.
func (m *Manager) syncAPIEndpoints(ctx context.Context, _ string, _ time.Time) (time.Duration, error) {
	svc, err := m.in.svcLister.Services(APINamespace).Get(APIService)
	if err != nil {
		return 0, nil
	}
	members, err := kube.Members(ctx, m.c)
	if err != nil {
		m.log.Warn("list members for the kubernetes service", "error", err)
		return 0, nil // the next tick tries again
	}
	want := PlanAPIEndpoints(svc, members)
	cur, err := m.in.sliceLister.EndpointSlices(APINamespace).Get(APISlice)
	if err != nil {
		cur = nil
	}
	if cur != nil && sameSlice(cur, want) {
		return 0, nil
	}
	if err := m.writeSlice(ctx, cur, want); err != nil {
		m.warnUnlessRace("write the kubernetes endpointslice", want, err)
		return 0, err
	}
	return 0, nil
}
