package api

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	genericrequest "k8s.io/apiserver/pkg/endpoints/request"

	"github.com/weirnet/weir/control/nodeauth"
)

// nodeRestrictionPrefix is the label prefix nodes may not set or change
// on their Node, as kube-apiserver's NodeRestriction admission keeps it
// for the cluster admin (to steer workloads to nodes they trust).
const nodeRestrictionPrefix = "node-restriction.kubernetes.io/"

// nodeRestriction is kube's NodeRestriction admission for requests of a
// node (system:node:NAME in system:nodes; the node authorizer let them
// through): a node may create and update only its own Node, without
// touching node-restriction.kubernetes.io/ labels or its taints, and
// delete only itself; of pods it may create only mirror pods bound to
// itself, update only the status of pods bound to it, and delete only
// those; of leases only its own (named after it) in kube-node-lease.
// obj is nil for a delete, old for a create. Refusals are logged and are
// kube's 403.
func (s *Server) nodeRestriction(ctx context.Context, rq *request, obj, old object) error {
	u, _ := genericrequest.UserFrom(ctx)
	node, ok := nodeauth.NodeName(u)
	if !ok || rq.sub == subInternal {
		return nil
	}
	var why string
	switch {
	case rq.res.Group == "" && rq.res.Kind == "Node":
		why = admitNode(node, obj, old)
	case rq.res.Group == "" && rq.res.Kind == "Pod":
		why = admitPod(node, rq.sub, obj, old)
	case rq.res.Group == "coordination.k8s.io" && rq.res.Kind == "Lease":
		why = admitLease(node, rq.namespace, obj, old)
	}
	if why == "" {
		return nil
	}
	name := rq.name
	if obj != nil && name == "" {
		name = obj.GetName()
	}
	s.log.Warn("NodeRestriction: refused a node's request", "user", u.GetName(), "verb", rq.verb, "resource", rq.res.Plural, "subresource", rq.sub,
		"namespace", rq.namespace, "name", name, "why", why)
	return errForbidden(rq.res, name, fmt.Errorf("node %q %s", node, why))
}

func admitNode(node string, obj, old object) string {
	target := old
	if target == nil {
		target = obj
	}
	if target.GetName() != node {
		return fmt.Sprintf("is not allowed to modify node %q", target.GetName())
	}
	if obj == nil { // delete of itself
		return ""
	}
	var oldLabels map[string]string
	if old != nil {
		oldLabels = old.GetLabels()
	}
	if k := changedRestrictedLabel(oldLabels, obj.GetLabels()); k != "" {
		return fmt.Sprintf("is not allowed to modify labels: %s", k)
	}
	if n, ok := obj.(*corev1.Node); ok {
		if o, ok := old.(*corev1.Node); ok && !apiequality.Semantic.DeepEqual(n.Spec.Taints, o.Spec.Taints) {
			return "is not allowed to modify taints"
		}
		if old == nil && len(n.Spec.Taints) > 0 {
			return "is not allowed to create a Node with taints"
		}
	}
	return ""
}

// changedRestrictedLabel is a node-restriction.kubernetes.io/ label that
// differs between before and after ("" when none).
func changedRestrictedLabel(before, after map[string]string) string {
	for _, m := range []map[string]string{before, after} {
		for k := range m {
			if !strings.HasPrefix(k, nodeRestrictionPrefix) {
				continue
			}
			bv, bok := before[k]
			av, aok := after[k]
			if bok != aok || bv != av {
				return k
			}
		}
	}
	return ""
}

// NodeLeaseNamespace holds each node's Lease, named after the node.
const NodeLeaseNamespace = "kube-node-lease"

func admitLease(node, ns string, obj, old object) string {
	if ns != NodeLeaseNamespace {
		return fmt.Sprintf("can only access leases in the %q system namespace", NodeLeaseNamespace)
	}
	target := old
	if target == nil {
		target = obj
	}
	if target.GetName() != node {
		return "can only access node lease with the same name as the requesting node"
	}
	return ""
}

func admitPod(node, sub string, obj, old object) string {
	boundTo := func(o object) string {
		if p, ok := o.(*corev1.Pod); ok {
			return p.Spec.NodeName
		}
		return ""
	}
	switch {
	case old == nil: // create
		if _, mirror := obj.GetAnnotations()[corev1.MirrorPodAnnotationKey]; !mirror {
			return "can only create mirror pods"
		}
		if boundTo(obj) != node {
			return "can only create pods with spec.nodeName set to itself"
		}
	case obj == nil: // delete
		if boundTo(old) != node {
			return "can only delete pods with spec.nodeName set to itself"
		}
	case sub != "status":
		return "can only update the status of pods, not " + map[bool]string{true: "the pod", false: sub}[sub == ""]
	case boundTo(old) != node:
		return "can only update pod status for pods with spec.nodeName set to itself"
	}
	return ""
}
