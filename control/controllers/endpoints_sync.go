package controllers

import (
	"context"
	"errors"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"

	"github.com/weirnet/weir/control/controllers/kube"
)

// watchEndpoints feeds the EndpointSlice controller (key: the service's
// namespace/name): a Service's own changes; a pod change enqueues the
// Services of its namespace whose selector matches its old or new labels;
// a change to one of its slices or its Endpoints enqueues the Service.
func (m *Manager) watchEndpoints(h *handlers) {
	l := m.loops.endpointslice
	h.onAny(m.in.services, func(obj any) { l.add(keyOf(obj)) })
	h.onAny(m.in.pods, func(obj any) {
		if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = t.Obj
		}
		if p, ok := obj.(*corev1.Pod); ok {
			for _, svc := range m.podServices(p) {
				l.add(kube.Key(svc.Namespace, svc.Name))
			}
		}
	})
	h.onAny(m.in.slices, func(obj any) {
		if o, ok := kube.ObjectOf(obj); ok && o.GetLabels()[discoveryv1.LabelManagedBy] == ManagedBy {
			l.add(kube.Key(o.GetNamespace(), o.GetLabels()[discoveryv1.LabelServiceName]))
		}
	})
	h.onAny(m.in.endpoints, func(obj any) { l.add(keyOf(obj)) })
}

// podServices are the cached Services with a selector that selects p.
func (m *Manager) podServices(p *corev1.Pod) []*corev1.Service {
	svcs, err := m.in.svcLister.Services(p.Namespace).List(labels.Everything())
	if err != nil {
		return nil
	}
	var out []*corev1.Service
	for _, svc := range svcs {
		if selected(svc) && labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(p.Labels)) {
			out = append(out, svc)
		}
	}
	return out
}

// syncService keeps one Service's EndpointSlices and Endpoints equal to
// PlanEndpointSlices and PlanEndpoints over the pods it selects. Slice
// names are deterministic and updates conditional, so a stale cache costs
// a retry, not a duplicate.
func (m *Manager) syncService(ctx context.Context, key string, _ time.Time) (time.Duration, error) {
	ns, name, _ := cache.SplitMetaNamespaceKey(key)
	svc, err := m.in.svcLister.Services(ns).Get(name)
	if err != nil || !selected(svc) {
		return 0, nil
	}
	pods, err := m.in.podLister.Pods(ns).List(labels.SelectorFromSet(svc.Spec.Selector))
	if err != nil {
		return 0, err
	}
	var have []*discoveryv1.EndpointSlice
	for _, s := range kube.ByIndex[*discoveryv1.EndpointSlice](m.in.slices, kube.SlicesByService, key) {
		if s.Labels[discoveryv1.LabelManagedBy] == ManagedBy {
			have = append(have, s)
		}
	}
	return 0, errors.Join(m.syncSlices(ctx, PlanEndpointSlices(svc, pods), have),
		m.syncEndpointsObject(ctx, PlanEndpoints(svc, pods)))
}

func (m *Manager) syncSlices(ctx context.Context, want, have []*discoveryv1.EndpointSlice) error {
	byName := map[string]*discoveryv1.EndpointSlice{}
	for _, s := range have {
		byName[s.Name] = s
	}
	var errs []error
	for _, w := range want {
		cur := byName[w.Name]
		delete(byName, w.Name)
		if cur != nil && sameSlice(cur, w) {
			continue
		}
		if err := m.writeSlice(ctx, cur, w); err != nil {
			m.warnUnlessRace("write endpointslice", w, err)
			errs = append(errs, err)
		}
	}
	for _, s := range byName {
		uid := s.UID
		err := m.c.DiscoveryV1().EndpointSlices(s.Namespace).Delete(ctx, s.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
		if err != nil {
			m.warnUnlessRace("delete endpointslice", s, err)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// writeSlice creates want (cur nil) or replaces cur with it.
func (m *Manager) writeSlice(ctx context.Context, cur, want *discoveryv1.EndpointSlice) error {
	c := m.c.DiscoveryV1().EndpointSlices(want.Namespace)
	if cur == nil {
		_, err := c.Create(ctx, want, metav1.CreateOptions{})
		return err
	}
	want.ResourceVersion = cur.ResourceVersion
	_, err := c.Update(ctx, want, metav1.UpdateOptions{})
	return err
}

func sameSlice(a, b *discoveryv1.EndpointSlice) bool {
	return a.AddressType == b.AddressType && equality.Semantic.DeepEqual(a.Endpoints, b.Endpoints) &&
		equality.Semantic.DeepEqual(a.Ports, b.Ports) && equality.Semantic.DeepEqual(a.Labels, b.Labels) &&
		equality.Semantic.DeepEqual(a.OwnerReferences, b.OwnerReferences)
}

func (m *Manager) syncEndpointsObject(ctx context.Context, want *corev1.Endpoints) error {
	c := m.c.CoreV1().Endpoints(want.Namespace)
	cur, err := m.in.epLister.Endpoints(want.Namespace).Get(want.Name)
	switch {
	case err != nil:
		_, err = c.Create(ctx, want, metav1.CreateOptions{})
	case equality.Semantic.DeepEqual(cur.Subsets, want.Subsets) && equality.Semantic.DeepEqual(cur.OwnerReferences, want.OwnerReferences):
		return nil
	default:
		want.ResourceVersion = cur.ResourceVersion
		_, err = c.Update(ctx, want, metav1.UpdateOptions{})
	}
	if err != nil {
		m.warnUnlessRace("write endpoints", want, err)
	}
	return err
}
