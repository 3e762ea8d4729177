package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/cache"

	"github.com/weirnet/weir/control/controllers/kube"
	"github.com/weirnet/weir/control/quota"
	"github.com/weirnet/weir/vocab/manifest"
)

// metadataListAccept asks the API for a list of object metadata only:
// the quota controller counts objects it need not decode.
const metadataListAccept = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"

// watchQuotas feeds the quota controller (key: a namespace): any change
// to a ResourceQuota, and, in a namespace that has quotas, the changes
// that can lower or correct usage of the kinds the Manager has informers
// for (a pod deleted or turning terminal, a Service changed or deleted,
// any other of its kinds deleted). Creates are charged by the API when
// they are written; the periodic pass (QuotaResync) recounts the kinds
// without an informer here (ConfigMaps, Secrets, ...).
func (m *Manager) watchQuotas(h *handlers) {
	h.onAny(m.in.quotas, func(obj any) {
		if o, ok := kube.ObjectOf(obj); ok {
			m.loops.quota.add(o.GetNamespace())
		}
	})
	ifQuotas := func(obj any) {
		if o, ok := kube.ObjectOf(obj); ok && m.hasQuotas(o.GetNamespace()) {
			m.loops.quota.add(o.GetNamespace())
		}
	}
	h.on(m.in.pods, ifQuotas, func(old, cur any) {
		o, ok1 := old.(*corev1.Pod)
		c, ok2 := cur.(*corev1.Pod)
		now := m.cfg.Now()
		if ok1 && ok2 && (quota.PodCharged(o, now) != quota.PodCharged(c, now) || (o.DeletionTimestamp == nil) != (c.DeletionTimestamp == nil)) {
			ifQuotas(cur)
		}
	}, ifQuotas)
	h.on(m.in.services, ifQuotas, func(_, cur any) { ifQuotas(cur) }, ifQuotas)
	for _, inf := range []cache.SharedIndexInformer{m.in.replicasets, m.in.deployments, m.in.jobs, m.in.endpoints, m.in.slices, m.in.accounts} {
		h.on(inf, ifQuotas, nil, ifQuotas)
	}
}

func (m *Manager) hasQuotas(ns string) bool {
	qs, err := m.in.quotaLister.ResourceQuotas(ns).List(labels.Everything())
	return err == nil && len(qs) > 0
}

// quotaNamespaces are the namespaces that have a ResourceQuota.
func (m *Manager) quotaNamespaces() []string {
	qs, err := m.in.quotaLister.List(labels.Everything())
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, q := range qs {
		if !seen[q.Namespace] {
			seen[q.Namespace] = true
			out = append(out, q.Namespace)
		}
	}
	return out
}

// syncQuotas recounts the usage of every ResourceQuota of a namespace and
// writes status.hard and status.used where they differ. It reads the
// quotas live first and the counted objects live after, and updates each
// quota's status conditioned on the resourceVersion read: a create the
// API charged after the quotas were read changed that resourceVersion,
// so the stale count is refused (409) and the namespace recounted; every
// charge before is in the lists. The recount lists each counted kind of
// the namespace once, only when some quota there tracks it.
func (m *Manager) syncQuotas(ctx context.Context, ns string, now time.Time) (time.Duration, error) {
	if !m.hasQuotas(ns) {
		return 0, nil
	}
	ql, err := m.c.CoreV1().ResourceQuotas(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return 0, err
	}
	hard := corev1.ResourceList{}
	for _, q := range ql.Items {
		for n, v := range q.Spec.Hard {
			hard[n] = v
		}
	}
	used, err := quota.Recount(hard, func(res, group string) ([]runtime.Object, error) {
		return m.listCounted(ctx, ns, res, group)
	}, now)
	if err != nil {
		return 0, err
	}
	for i := range ql.Items {
		q := &ql.Items[i]
		want := corev1.ResourceQuotaStatus{Hard: q.Spec.Hard.DeepCopy(), Used: corev1.ResourceList{}}
		for n := range q.Spec.Hard {
			want.Used[n] = used[n].DeepCopy()
		}
		if quota.Equal(want.Hard, q.Status.Hard) && quota.Equal(want.Used, q.Status.Used) {
			continue
		}
		q.Status = want
		if _, err := m.c.CoreV1().ResourceQuotas(ns).UpdateStatus(ctx, q, metav1.UpdateOptions{}); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			m.warnUnlessRace("update quota status", q, err)
			return 0, err
		}
	}
	return 0, nil
}

// listCounted lists the objects of one counted resource in ns: pods and
// Services whole (their usage depends on their spec), anything else as
// metadata only. A resource weir does not serve has no objects.
func (m *Manager) listCounted(ctx context.Context, ns, res, group string) ([]runtime.Object, error) {
	var out []runtime.Object
	switch {
	case res == "pods" && group == "":
		l, err := m.c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		for i := range l.Items {
			out = append(out, &l.Items[i])
		}
		return out, nil
	case res == "services" && group == "":
		l, err := m.c.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		for i := range l.Items {
			out = append(out, &l.Items[i])
		}
		return out, nil
	}
	var kind *manifest.Kind
	for _, k := range manifest.Kinds() {
		if k.Plural == res && k.Group == group && k.Namespaced {
			kind = &k
			break
		}
	}
	if kind == nil {
		return nil, nil
	}
	var l metav1.PartialObjectMetadataList
	err := m.c.CoreV1().RESTClient().Get().AbsPath(kind.CollectionPath(ns)).SetHeader("Accept", metadataListAccept).Do(ctx).Into(&l)
	if err != nil {
		return nil, fmt.Errorf("list %s in %s: %w", kind.Resource(), ns, err)
	}
	for i := range l.Items {
		out = append(out, &l.Items[i])
	}
	return out, nil
}
