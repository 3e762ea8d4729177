package node

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/weirnet/weir/dns"
)

// dnsFeed turns the reconciler's full object sets into dns.Server calls:
// the first set is a full Update, later ones an Apply of only what changed
// (by resourceVersion), whose cost does not grow with the cluster, where a
// full Update costs about half a second at 10,000 services. Owned by the
// stream loop: not safe for concurrent use.
type dnsFeed struct {
	seen *dnsSeen // nil before the first Update
}

// dnsSeen is the resourceVersion of every object last fed, by key.
type dnsSeen struct{ services, slices, pods map[string]string }

func (f *dnsFeed) feed(srv *dns.Server, services []corev1.Service, slices []discoveryv1.EndpointSlice, pods []corev1.Pod) {
	next := &dnsSeen{}
	if f.seen == nil {
		next.services, next.slices, next.pods = versions(services), versions(slices), versions(pods)
		srv.Update(services, slices, pods)
		f.seen = next
		return
	}
	var d dns.Delta
	d.Services, d.DeletedServices, next.services = diffObjects(services, f.seen.services)
	d.EndpointSlices, d.DeletedEndpointSlices, next.slices = diffObjects(slices, f.seen.slices)
	d.Pods, d.DeletedPods, next.pods = diffObjects(pods, f.seen.pods)
	f.seen = next
	if len(d.Services)+len(d.EndpointSlices)+len(d.Pods)+len(d.DeletedServices)+len(d.DeletedEndpointSlices)+len(d.DeletedPods) == 0 {
		return
	}
	if err := srv.Apply(d); err != nil { // not ready: cannot happen after Update, but stay correct
		srv.Update(services, slices, pods)
	}
}

// kubeObject is a pointer to an API object.
type kubeObject[T any] interface {
	*T
	metav1.Object
}

func versions[T any, P kubeObject[T]](objs []T) map[string]string {
	out := make(map[string]string, len(objs))
	for i := range objs {
		o := P(&objs[i])
		out[o.GetNamespace()+"/"+o.GetName()] = o.GetResourceVersion()
	}
	return out
}

// diffObjects lists the objects new or changed since prev (an empty
// resourceVersion always counts as changed) and the keys gone, and
// returns the versions of objs.
func diffObjects[T any, P kubeObject[T]](objs []T, prev map[string]string) (changed []T, deleted []types.NamespacedName, next map[string]string) {
	next = make(map[string]string, len(objs))
	for i := range objs {
		o := P(&objs[i])
		key, rv := o.GetNamespace()+"/"+o.GetName(), o.GetResourceVersion()
		next[key] = rv
		if old, ok := prev[key]; !ok || rv == "" || old != rv {
			changed = append(changed, objs[i])
		}
	}
	for key := range prev {
		if _, ok := next[key]; !ok {
			ns, name, _ := strings.Cut(key, "/")
			deleted = append(deleted, types.NamespacedName{Namespace: ns, Name: name})
		}
	}
	return changed, deleted, next
}
