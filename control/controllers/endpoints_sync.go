package controllers

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/weirnet/weir/control/controllers/kube"
)

func (m *Manager) syncEndpoints(ctx context.Context, _ time.Time) {
	pods := m.inf.pods.List()
	existing := map[string][]*discoveryv1.EndpointSlice{}
	for _, s := range m.inf.slices.List() {
		if s.Labels[discoveryv1.LabelManagedBy] == ManagedBy {
			k := kube.Key(s.Namespace, s.Labels[discoveryv1.LabelServiceName])
			existing[k] = append(existing[k], s)
		}
	}
	for _, svc := range m.inf.services.List() {
		if ctx.Err() != nil {
			return
		}
		if !selected(svc) {
			continue
		}
		m.syncSlices(ctx, svc, PlanEndpointSlices(svc, pods), existing[kube.Key(svc.Namespace, svc.Name)])
		m.syncEndpointsObject(ctx, PlanEndpoints(svc, pods))
	}
}

func (m *Manager) syncSlices(ctx context.Context, svc *corev1.Service, want, have []*discoveryv1.EndpointSlice) {
	byName := map[string]*discoveryv1.EndpointSlice{}
	for _, s := range have {
		byName[s.Name] = s
	}
	for _, w := range want {
		cur := byName[w.Name]
		delete(byName, w.Name)
		out := &discoveryv1.EndpointSlice{}
		var err error
		switch {
		case cur == nil:
			err = m.c.Create(ctx, kube.EndpointSlices, w.Namespace, w, out)
		case sameSlice(cur, w):
			continue
		default:
			w.ResourceVersion = cur.ResourceVersion
			err = m.c.Update(ctx, kube.EndpointSlices, w.Namespace, w.Name, w, out)
		}
		if err != nil {
			m.warnUnlessRace("write endpointslice", w, err)
			continue
		}
		m.inf.slices.Observe(out)
	}
	for _, s := range byName {
		if err := m.c.Delete(ctx, kube.EndpointSlices, s.Namespace, s.Name, s.UID, nil); err != nil {
			m.warnUnlessRace("delete endpointslice", s, err)
			continue
		}
		m.inf.slices.ObserveDeleted(s)
	}
}

func sameSlice(a, b *discoveryv1.EndpointSlice) bool {
	return a.AddressType == b.AddressType && equality.Semantic.DeepEqual(a.Endpoints, b.Endpoints) &&
		equality.Semantic.DeepEqual(a.Ports, b.Ports) && equality.Semantic.DeepEqual(a.Labels, b.Labels) &&
		equality.Semantic.DeepEqual(a.OwnerReferences, b.OwnerReferences)
}

func (m *Manager) syncEndpointsObject(ctx context.Context, want *corev1.Endpoints) {
	cur, ok := m.inf.endpoints.Get(want.Namespace, want.Name)
	out := &corev1.Endpoints{}
	var err error
	switch {
	case !ok:
		err = m.c.Create(ctx, kube.Endpoints, want.Namespace, want, out)
	case equality.Semantic.DeepEqual(cur.Subsets, want.Subsets) && equality.Semantic.DeepEqual(cur.OwnerReferences, want.OwnerReferences):
		return
	default:
		want.ResourceVersion = cur.ResourceVersion
		err = m.c.Update(ctx, kube.Endpoints, want.Namespace, want.Name, want, out)
	}
	if err != nil {
		m.warnUnlessRace("write endpoints", want, err)
		return
	}
	m.inf.endpoints.Observe(out)
}
