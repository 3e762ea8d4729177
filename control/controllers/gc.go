package controllers

import (
	"context"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/weirnet/weir/control/controllers/kube"
)

// dependent is one object that has owners, with its kind.
type dependent struct {
	kind kube.Kind
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

// lookupOwner answers from the caches for the owner kinds weir serves.
func (m *Manager) lookupOwner(kind, ns, name string) (types.UID, bool, bool) {
	var o metav1.Object
	var ok bool
	switch kind {
	case "Deployment":
		o, ok = getObj(m.inf.deployments, ns, name)
	case "ReplicaSet":
		o, ok = getObj(m.inf.replicasets, ns, name)
	case "Job":
		o, ok = getObj(m.inf.jobs, ns, name)
	case "Service":
		o, ok = getObj(m.inf.services, ns, name)
	case "Pod":
		o, ok = getObj(m.inf.pods, ns, name)
	case "Node":
		o, ok = getObj(m.inf.nodes, "", name)
	default:
		return "", false, false
	}
	if !ok {
		return "", false, true
	}
	return o.GetUID(), true, true
}

func getObj[P kube.Object](i *kube.Informer[P], ns, name string) (metav1.Object, bool) {
	o, ok := i.Get(ns, name)
	return o, ok
}

var ownerKinds = map[string]kube.Kind{
	"Deployment": kube.Deployments, "ReplicaSet": kube.ReplicaSets, "Job": kube.Jobs,
	"Service": kube.Services, "Pod": kube.Pods, "Node": kube.Nodes,
}

func (m *Manager) dependents() []dependent {
	var out []dependent
	collect := func(k kube.Kind, objs []metav1.Object) {
		for _, o := range objs {
			if len(o.GetOwnerReferences()) > 0 {
				out = append(out, dependent{kind: k, obj: o})
			}
		}
	}
	collect(kube.Pods, asObjects(m.inf.pods.List()))
	collect(kube.ReplicaSets, asObjects(m.inf.replicasets.List()))
	collect(kube.EndpointSlices, asObjects(m.inf.slices.List()))
	collect(kube.Endpoints, asObjects(m.inf.endpoints.List()))
	collect(kube.Jobs, asObjects(m.inf.jobs.List()))
	return out
}

func asObjects[P kube.Object](list []P) []metav1.Object {
	out := make([]metav1.Object, len(list))
	for i, o := range list {
		out[i] = o
	}
	return out
}

// syncGarbage takes owners being deleted in the foreground or with
// orphaning one step further (gc_finalize.go), then deletes orphans
// (background deletion), after confirming with the API that each owner
// is really gone.
func (m *Manager) syncGarbage(ctx context.Context, _ time.Time) {
	m.syncFinalizers(ctx)
	for _, d := range Orphans(m.dependents(), m.lookupOwner) {
		if ctx.Err() != nil || !m.ownersGone(ctx, d.obj) {
			continue
		}
		err := m.c.Delete(ctx, d.kind, d.obj.GetNamespace(), d.obj.GetName(), d.obj.GetUID(), nil)
		if err != nil && !apierrors.IsNotFound(err) {
			m.warnUnlessRace("collect orphan", d.obj.(kube.Object), err)
			continue
		}
		m.log.Debug("collected orphan", "resource", d.kind.Resource, "object", kube.Key(d.obj.GetNamespace(), d.obj.GetName()))
	}
}

// ownersGone asks the API (not the cache) whether every owner of obj is
// gone, so that an owner the cache has not seen yet is not mistaken for a
// deleted one.
func (m *Manager) ownersGone(ctx context.Context, obj metav1.Object) bool {
	for _, r := range obj.GetOwnerReferences() {
		k, ok := ownerKinds[r.Kind]
		if !ok {
			return false
		}
		var meta struct {
			Metadata metav1.ObjectMeta `json:"metadata"`
		}
		err := m.c.Get(ctx, k, obj.GetNamespace(), r.Name, &meta)
		if err == nil && meta.Metadata.UID == r.UID {
			return false
		}
		if err != nil && !apierrors.IsNotFound(err) {
			return false
		}
	}
	return true
}
