package kube

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	appsinformers "k8s.io/client-go/informers/apps/v1"
	batchinformers "k8s.io/client-go/informers/batch/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	discoveryinformers "k8s.io/client-go/informers/discovery/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// ResyncPeriod is how often the informers replay their whole cache to the
// event handlers: a safety net that re-reconciles every key, not the way
// changes are delivered.
const ResyncPeriod = 5 * time.Minute

// Index names of the indexed informers.
const (
	// PodsByNode indexes pods by spec.nodeName (bound pods only).
	PodsByNode = "weir.dev/pods-by-node"
	// ByOwnerUID indexes dependents by the UID of each of their owners.
	ByOwnerUID = "weir.dev/by-owner-uid"
	// SlicesByService indexes EndpointSlices by "namespace/service" from
	// their kubernetes.io/service-name label.
	SlicesByService = "weir.dev/slices-by-service"
)

// NewInformerFactory returns a factory of shared informers of cs (all
// namespaces) with the ResyncPeriod. Its owner starts it once its users
// asked for their informers, and calls Shutdown after they stopped.
func NewInformerFactory(cs kubernetes.Interface) informers.SharedInformerFactory {
	return informers.NewSharedInformerFactory(cs, ResyncPeriod)
}

// Key is the cache key of namespace/name ("name" when cluster-scoped).
func Key(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "/" + name
}

func ownerUIDs(obj any) ([]string, error) {
	o, err := meta.Accessor(obj)
	if err != nil {
		return nil, nil
	}
	refs := o.GetOwnerReferences()
	out := make([]string, 0, len(refs))
	for _, r := range refs {
		out = append(out, string(r.UID))
	}
	return out, nil
}

func podNode(obj any) ([]string, error) {
	if p, ok := obj.(*corev1.Pod); ok && p.Spec.NodeName != "" {
		return []string{p.Spec.NodeName}, nil
	}
	return nil, nil
}

func sliceService(obj any) ([]string, error) {
	if s, ok := obj.(*discoveryv1.EndpointSlice); ok {
		if svc := s.Labels[discoveryv1.LabelServiceName]; svc != "" {
			return []string{Key(s.Namespace, svc)}, nil
		}
	}
	return nil, nil
}

func indexers(extra cache.Indexers) cache.Indexers {
	ix := cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc, ByOwnerUID: ownerUIDs}
	for k, v := range extra {
		ix[k] = v
	}
	return ix
}

// Pods is the factory's pod informer, indexed by node and by owner UID.
func Pods(f informers.SharedInformerFactory) coreinformers.PodInformer {
	f.InformerFor(&corev1.Pod{}, func(c kubernetes.Interface, resync time.Duration) cache.SharedIndexInformer {
		return coreinformers.NewPodInformer(c, metav1.NamespaceAll, resync, indexers(cache.Indexers{PodsByNode: podNode}))
	})
	return f.Core().V1().Pods()
}

// ReplicaSets is the factory's ReplicaSet informer, indexed by owner UID.
func ReplicaSets(f informers.SharedInformerFactory) appsinformers.ReplicaSetInformer {
	f.InformerFor(&appsv1.ReplicaSet{}, func(c kubernetes.Interface, resync time.Duration) cache.SharedIndexInformer {
		return appsinformers.NewReplicaSetInformer(c, metav1.NamespaceAll, resync, indexers(nil))
	})
	return f.Apps().V1().ReplicaSets()
}

// ControllerRevisions is the factory's ControllerRevision informer,
// indexed by owner UID.
func ControllerRevisions(f informers.SharedInformerFactory) appsinformers.ControllerRevisionInformer {
	f.InformerFor(&appsv1.ControllerRevision{}, func(c kubernetes.Interface, resync time.Duration) cache.SharedIndexInformer {
		return appsinformers.NewControllerRevisionInformer(c, metav1.NamespaceAll, resync, indexers(nil))
	})
	return f.Apps().V1().ControllerRevisions()
}

// Jobs is the factory's Job informer, indexed by owner UID.
func Jobs(f informers.SharedInformerFactory) batchinformers.JobInformer {
	f.InformerFor(&batchv1.Job{}, func(c kubernetes.Interface, resync time.Duration) cache.SharedIndexInformer {
		return batchinformers.NewJobInformer(c, metav1.NamespaceAll, resync, indexers(nil))
	})
	return f.Batch().V1().Jobs()
}

// EndpointSlices is the factory's EndpointSlice informer, indexed by
// service and by owner UID.
func EndpointSlices(f informers.SharedInformerFactory) discoveryinformers.EndpointSliceInformer {
	f.InformerFor(&discoveryv1.EndpointSlice{}, func(c kubernetes.Interface, resync time.Duration) cache.SharedIndexInformer {
		return discoveryinformers.NewEndpointSliceInformer(c, metav1.NamespaceAll, resync, indexers(cache.Indexers{SlicesByService: sliceService}))
	})
	return f.Discovery().V1().EndpointSlices()
}

// Endpoints is the factory's Endpoints informer, indexed by owner UID.
func Endpoints(f informers.SharedInformerFactory) coreinformers.EndpointsInformer {
	f.InformerFor(&corev1.Endpoints{}, func(c kubernetes.Interface, resync time.Duration) cache.SharedIndexInformer {
		return coreinformers.NewEndpointsInformer(c, metav1.NamespaceAll, resync, indexers(nil))
	})
	return f.Core().V1().Endpoints()
}

// IndexByOwnerUID adds the ByOwnerUID index to inf, an informer of the
// factory that another user may have asked for without it; call it
// before the factory starts.
func IndexByOwnerUID(inf cache.SharedIndexInformer) error {
	if _, ok := inf.GetIndexer().GetIndexers()[ByOwnerUID]; ok {
		return nil
	}
	return inf.AddIndexers(cache.Indexers{ByOwnerUID: ownerUIDs})
}

// ByIndex lists the objects of inf's cache under an index value, as T
// (shared: do not modify).
func ByIndex[T any](inf cache.SharedIndexInformer, index, value string) []T {
	objs, err := inf.GetIndexer().ByIndex(index, value)
	if err != nil {
		return nil
	}
	out := make([]T, 0, len(objs))
	for _, o := range objs {
		if t, ok := o.(T); ok {
			out = append(out, t)
		}
	}
	return out
}

// ObjectOf unwraps a delete handler's argument (the object or a
// DeletedFinalStateUnknown tombstone).
func ObjectOf(obj any) (metav1.Object, bool) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	o, err := meta.Accessor(obj)
	return o, err == nil
}
