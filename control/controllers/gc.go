package controllers

import (
	"context"
	"errors"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/weirnet/weir/control/controllers/kube"
)

// gcKind is one kind the garbage collector watches, with the REST client
// of its group for the generic reads, patches and deletes.
type gcKind struct {
	kind       string // as ownerReferences name it
	resource   string
	namespaced bool
	owner      bool // Orphans looks owners of this kind up (others count as present)
	dependent  bool // collected when its owners are gone
	rc         rest.Interface
	inf        cache.SharedIndexInformer
}

// gcKinds are the kinds the garbage collector watches, by kind name.
func (m *Manager) gcKinds() map[string]*gcKind {
	core, apps, batch, disc := m.c.CoreV1().RESTClient(), m.c.AppsV1().RESTClient(), m.c.BatchV1().RESTClient(), m.c.DiscoveryV1().RESTClient()
	policy := m.c.PolicyV1().RESTClient()
	in := &m.in
	ks := []*gcKind{
		{"Deployment", "deployments", true, true, false, apps, in.deployments},
		{"ReplicaSet", "replicasets", true, true, true, apps, in.replicasets},
		{"Job", "jobs", true, true, true, batch, in.jobs},
		{"DaemonSet", "daemonsets", true, true, false, apps, in.daemonsets},
		{"StatefulSet", "statefulsets", true, true, false, apps, in.statefulsets},
		{"ControllerRevision", "controllerrevisions", true, false, true, apps, in.revisions},
		{"CronJob", "cronjobs", true, true, false, batch, in.cronjobs},
		{"Pod", "pods", true, true, true, core, in.pods},
		{"Service", "services", true, true, false, core, in.services},
		{"Node", "nodes", false, true, false, core, in.nodes},
		{"Endpoints", "endpoints", true, false, true, core, in.endpoints},
		{"EndpointSlice", "endpointslices", true, false, true, disc, in.slices},
		{"ServiceAccount", "serviceaccounts", true, false, false, core, in.accounts},
		{"PersistentVolumeClaim", "persistentvolumeclaims", true, false, true, core, m.pvb.claims},
		{"PodDisruptionBudget", "poddisruptionbudgets", true, false, true, policy, in.pdbs},
	}
	out := map[string]*gcKind{}
	for _, k := range ks {
		out[k.kind] = k
	}
	return out
}

// gcKey is the garbage collector's key of an object: Kind/namespace/name.
func gcKey(kind, ns, name string) string { return kind + "/" + ns + "/" + name }

// dependent is one object that has owners, with its kind.
type dependent struct {
	kind *gcKind
	obj  metav1.Object
}

// ownerLookup finds a cached owner's UID by kind, namespace and name.
type ownerLookup func(kind, ns, name string) (types.UID, bool, bool)

// Orphans are the dependents whose owners are all gone (no cached object
// of that kind, namespace and name with that UID). Owners of kinds the
// lookup does not know count as present.
func Orphans(deps []dependent, lookup ownerLookup) []dependent {
	var out []dependent
	for _, d := range deps {
		refs := d.obj.GetOwnerReferences()
		if len(refs) == 0 {
			continue
		}
		gone := true
		for _, r := range refs {
			uid, found, known := lookup(r.Kind, d.obj.GetNamespace(), r.Name)
			if !known || (found && uid == r.UID) {
				gone = false
				break
			}
		}
		if gone {
			out = append(out, d)
		}
	}
	return out
}

// cached is the cached object of kind k, ns/name.
func (k *gcKind) cached(ns, name string) (metav1.Object, bool) {
	if !k.namespaced {
		ns = ""
	}
	obj, ok, err := k.inf.GetIndexer().GetByKey(kube.Key(ns, name))
	if err != nil || !ok {
		return nil, false
	}
	o, err := meta.Accessor(obj)
	return o, err == nil
}

// lookupOwner answers from the caches for the owner kinds weir serves.
func (m *Manager) lookupOwner(kind, ns, name string) (types.UID, bool, bool) {
	k := m.kinds[kind]
	if k == nil || !k.owner {
		return "", false, false
	}
	o, ok := k.cached(ns, name)
	if !ok {
		return "", false, true
	}
	return o.GetUID(), true, true
}

// watchGarbage feeds the garbage collector (key gcKey): an object being
// deleted with a GC finalizer; a dependent when it appears or its owners
// change; the dependents of an object that was deleted (they may be
// orphans now, found by the owner-UID index); and an owner being
// finalized when one of its dependents changes or goes.
func (m *Manager) watchGarbage(h *handlers) {
	m.kinds = m.gcKinds()
	for _, k := range m.kinds {
		h.on(k.inf,
			func(obj any) { m.gcChanged(k, nil, obj) },
			func(old, cur any) { m.gcChanged(k, old, cur) },
			func(obj any) { m.gcDeleted(obj) })
	}
}

func (m *Manager) gcChanged(k *gcKind, old, cur any) {
	o, ok := kube.ObjectOf(cur)
	if !ok {
		return
	}
	if finalizing(o) {
		m.loops.gc.add(gcKey(k.kind, o.GetNamespace(), o.GetName()))
	}
	refs := o.GetOwnerReferences()
	var was metav1.Object
	if old != nil {
		was, _ = kube.ObjectOf(old)
	}
	if k.dependent && len(refs) > 0 && (was == nil || was.GetResourceVersion() == o.GetResourceVersion() ||
		!equalRefs(was.GetOwnerReferences(), refs)) {
		m.loops.gc.add(gcKey(k.kind, o.GetNamespace(), o.GetName()))
	}
	m.enqueueFinalizingOwners(o)
	if was != nil {
		m.enqueueFinalizingOwners(was)
	}
}

func (m *Manager) gcDeleted(obj any) {
	o, ok := kube.ObjectOf(obj)
	if !ok {
		return
	}
	for _, d := range m.dependentsOf(o.GetUID()) {
		m.loops.gc.add(gcKey(d.kind.kind, d.obj.GetNamespace(), d.obj.GetName()))
	}
	m.enqueueFinalizingOwners(o)
}

// enqueueFinalizingOwners enqueues o's cached owners that are being
// deleted with a GC finalizer.
func (m *Manager) enqueueFinalizingOwners(o metav1.Object) {
	for _, r := range o.GetOwnerReferences() {
		k := m.kinds[r.Kind]
		if k == nil {
			continue
		}
		if own, ok := k.cached(o.GetNamespace(), r.Name); ok && own.GetUID() == r.UID && finalizing(own) {
			m.loops.gc.add(gcKey(k.kind, own.GetNamespace(), own.GetName()))
		}
	}
}

func equalRefs(a, b []metav1.OwnerReference) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].UID != b[i].UID {
			return false
		}
	}
	return true
}

// dependentsOf are the cached dependents with an ownerReference to uid.
func (m *Manager) dependentsOf(uid types.UID) []dependent {
	var out []dependent
	for _, k := range m.kinds {
		if !k.dependent {
			continue
		}
		objs, _ := k.inf.GetIndexer().ByIndex(kube.ByOwnerUID, string(uid))
		for _, obj := range objs {
			if o, err := meta.Accessor(obj); err == nil {
				out = append(out, dependent{kind: k, obj: o})
			}
		}
	}
	return out
}

// syncGarbage takes one object further: being deleted with a GC
// finalizer, the next step of its foreground or orphan deletion
// (gc_finalize.go); a dependent whose owners are all gone, deleted
// (background deletion) after the API confirmed each owner is gone.
func (m *Manager) syncGarbage(ctx context.Context, key string, _ time.Time) (time.Duration, error) {
	parts := strings.SplitN(key, "/", 3)
	if len(parts) != 3 {
		return 0, nil
	}
	k := m.kinds[parts[0]]
	if k == nil {
		return 0, nil
	}
	o, ok := k.cached(parts[1], parts[2])
	if !ok {
		return 0, nil
	}
	var errs []error
	if finalizing(o) {
		errs = append(errs, m.finalize(ctx, k, o))
	}
	if k.dependent && len(Orphans([]dependent{{kind: k, obj: o}}, m.lookupOwner)) == 1 && m.ownersGone(ctx, o) {
		uid := o.GetUID()
		err := m.delete(ctx, k, o, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
		switch {
		case err == nil || apierrors.IsNotFound(err):
			m.log.Debug("collected orphan", "resource", k.resource, "object", kube.Key(o.GetNamespace(), o.GetName()))
		default:
			m.warnUnlessRace("collect orphan", o, err)
			errs = append(errs, err)
		}
	}
	return 0, errors.Join(errs...)
}

// ownersGone asks the API (not the cache) whether every owner of obj is
// gone, so that an owner the cache has not seen yet is not mistaken for a
// deleted one.
func (m *Manager) ownersGone(ctx context.Context, obj metav1.Object) bool {
	for _, r := range obj.GetOwnerReferences() {
		k := m.kinds[r.Kind]
		if k == nil || !k.owner {
			return false
		}
		cur, err := m.live(ctx, k, obj.GetNamespace(), r.Name)
		if err == nil && cur.GetUID() == r.UID {
			return false
		}
		if err != nil && !apierrors.IsNotFound(err) {
			return false
		}
	}
	return true
}
