package controllers

import (
	"context"
	"maps"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/weirnet/weir/control/controllers/kube"
)

// The ConfigMap the root CA publisher keeps in every namespace, as
// kube-controller-manager's root-ca-cert-publisher does: data ca.crt is
// the cluster CA, which pods' projected ServiceAccount volumes mount.
const (
	RootCAConfigMap   = "kube-root-ca.crt"
	RootCAKey         = "ca.crt"
	RootCADescription = "kubernetes.io/description"
	rootCADescription = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."
)

// rootCA is the publisher: its own informer of the kube-root-ca.crt
// ConfigMaps only (a field selector, so the leader does not cache every
// ConfigMap) and a loop keyed by namespace.
type rootCA struct {
	f      informers.SharedInformerFactory
	inf    cache.SharedIndexInformer
	lister corelisters.ConfigMapLister
	loop   *loop
}

// newRootCA asks for the publisher's informer; nil when Config.RootCA is
// empty (publisher off).
func (m *Manager) newRootCA() *rootCA {
	if len(m.cfg.RootCA) == 0 {
		return nil
	}
	f := informers.NewSharedInformerFactoryWithOptions(m.c, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("metadata.name", RootCAConfigMap).String()
	}))
	cms := f.Core().V1().ConfigMaps()
	return &rootCA{f: f, inf: cms.Informer(), lister: cms.Lister()}
}

// runRootCA runs the publisher until ctx ends, in wg (called once the
// shared caches have synced): namespace changes and changes to a
// kube-root-ca.crt ConfigMap enqueue the namespace.
func (m *Manager) runRootCA(ctx context.Context, wg *sync.WaitGroup, h *handlers) {
	p := m.rootca
	if p == nil {
		return
	}
	p.loop = newLoop("root-ca-cert-publisher", m.cfg.Workers, m.syncRootCA)
	h.on(m.in.namespaces, func(obj any) { p.loop.add(keyOf(obj)) }, func(_, cur any) { p.loop.add(keyOf(cur)) }, nil)
	ns := func(obj any) {
		if o, ok := kube.ObjectOf(obj); ok {
			p.loop.add(o.GetNamespace())
		}
	}
	h.on(p.inf, nil, func(_, cur any) { ns(cur) }, ns)
	if h.err != nil {
		m.log.Error("root CA publisher: register informer handlers", "error", h.err)
		return
	}
	p.f.Start(ctx.Done())
	wg.Go(func() {
		defer p.f.Shutdown()
		defer p.loop.q.ShutDown()
		if !cache.WaitForCacheSync(ctx.Done(), p.inf.HasSynced) {
			return
		}
		for _, n := range m.in.namespaces.GetStore().ListKeys() {
			p.loop.add(n)
		}
		var workers sync.WaitGroup
		p.loop.run(ctx, &workers, m.cfg.Now, m.log, m.cfg.OnReconcile)
		<-ctx.Done()
		p.loop.q.ShutDown()
		workers.Wait()
	})
}

// syncRootCA makes namespace name's kube-root-ca.crt hold exactly the
// cluster CA (creating it, or putting back what was changed).
func (m *Manager) syncRootCA(ctx context.Context, name string, _ time.Time) (time.Duration, error) {
	ns, err := m.in.nsLister.Get(name)
	if err != nil || ns.DeletionTimestamp != nil || ns.Status.Phase == corev1.NamespaceTerminating {
		return 0, nil
	}
	data := map[string]string{RootCAKey: string(m.cfg.RootCA)}
	cm, err := m.rootca.lister.ConfigMaps(name).Get(RootCAConfigMap)
	if apierrors.IsNotFound(err) {
		cm = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: RootCAConfigMap, Namespace: name,
			Annotations: map[string]string{RootCADescription: rootCADescription}}, Data: data}
		_, err := m.c.CoreV1().ConfigMaps(name).Create(ctx, cm, metav1.CreateOptions{})
		switch {
		case err == nil, apierrors.IsAlreadyExists(err), apierrors.IsNotFound(err), apierrors.IsForbidden(err):
			return 0, nil // made, raced, or the namespace is going away
		default:
			m.warn("create "+RootCAConfigMap, cm, err)
			return 0, err
		}
	}
	if err != nil {
		return 0, err
	}
	if maps.Equal(cm.Data, data) && len(cm.BinaryData) == 0 && cm.Annotations[RootCADescription] != "" {
		return 0, nil
	}
	cm = cm.DeepCopy()
	cm.Data, cm.BinaryData = data, nil
	if cm.Annotations == nil {
		cm.Annotations = map[string]string{}
	}
	cm.Annotations[RootCADescription] = rootCADescription
	if _, err := m.c.CoreV1().ConfigMaps(name).Update(ctx, cm, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return 0, err
	}
	return 0, nil
}
