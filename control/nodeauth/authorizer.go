package nodeauth

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// Node identities (as control/nodestream's certificates carry them).
const (
	NodeUserPrefix = "system:node:"
	NodesGroup     = "system:nodes"
)

// NodeName is the node a user is, ok false for any other user.
func NodeName(u interface {
	GetName() string
	GetGroups() []string
}) (string, bool) {
	if u == nil {
		return "", false
	}
	name, ok := strings.CutPrefix(u.GetName(), NodeUserPrefix)
	if !ok || name == "" {
		return "", false
	}
	for _, g := range u.GetGroups() {
		if g == NodesGroup {
			return name, true
		}
	}
	return "", false
}

// Authorizer decides the requests of nodes; see the package doc.
type Authorizer struct{ g *Graph }

// New is the node authorizer over g (Run it).
func New(g *Graph) *Authorizer { return &Authorizer{g: g} }

var _ authorizer.Authorizer = (*Authorizer)(nil)

func allow() (authorizer.Decision, string, error) { return authorizer.DecisionAllow, "", nil }

func noOpinion(format string, a ...any) (authorizer.Decision, string, error) {
	return authorizer.DecisionNoOpinion, fmt.Sprintf(format, a...), nil
}

// Authorize decides attrs for a node user; NoOpinion for anyone else.
func (a *Authorizer) Authorize(_ context.Context, attrs authorizer.Attributes) (authorizer.Decision, string, error) {
	node, ok := NodeName(attrs.GetUser())
	if !ok || !attrs.IsResourceRequest() {
		return authorizer.DecisionNoOpinion, "", nil
	}
	verb, group, res, sub, ns, name := attrs.GetVerb(), attrs.GetAPIGroup(), attrs.GetResource(), attrs.GetSubresource(), attrs.GetNamespace(), attrs.GetName()
	read := verb == "get" || verb == "list" || verb == "watch"
	switch {
	case group == "" && res == "nodes":
		switch {
		case sub == "" && read, sub == "status" && verb == "get":
			return allow()
		case sub == "" && verb == "create":
			return allow() // NodeRestriction: only its own name
		case (sub == "" || sub == "status") && (verb == "update" || verb == "patch"):
			if name == node {
				return allow()
			}
			return noOpinion("node %q may only update its own Node, not %q", node, name)
		}
	case (group == "" && (res == "services" || res == "endpoints")) || (group == "discovery.k8s.io" && res == "endpointslices"):
		if sub == "" && read {
			return allow()
		}
	case group == "" && res == "pods":
		return a.pods(node, verb, sub, ns, name, attrs)
	case group == "" && (res == "secrets" || res == "configmaps" || res == "persistentvolumeclaims" || res == "serviceaccounts"):
		objVerb := sub == "" && (verb == "get" || ((verb == "list" || verb == "watch") && name != ""))
		tokenReq := res == "serviceaccounts" && sub == "token" && verb == "create"
		if !objVerb && !tokenReq {
			return noOpinion("node %q may only get %s its pods use, by name", node, res)
		}
		if a.g.references(node, ref{res, ns, name}) {
			return allow()
		}
		return noOpinion("no relationship found between node %q and this object", node)
	case group == "" && res == "persistentvolumes":
		return a.volumes(node, verb, sub, name, attrs)
	case (group == "" || group == "events.k8s.io") && res == "events":
		if verb == "create" || verb == "update" || verb == "patch" {
			return allow()
		}
	case group == "coordination.k8s.io" && res == "leases" && ns == "kube-node-lease":
		if verb == "create" || (name == node && (verb == "get" || verb == "update" || verb == "patch" || verb == "delete")) {
			return allow()
		}
	}
	return authorizer.DecisionNoOpinion, "", nil
}

// pods: a node reads its own pods (a list or watch must select
// spec.nodeName=NODE) and writes their status.
func (a *Authorizer) pods(node, verb, sub, ns, name string, attrs authorizer.Attributes) (authorizer.Decision, string, error) {
	switch {
	case sub == "" && (verb == "list" || verb == "watch") && name == "":
		reqs, err := attrs.GetFieldSelector()
		if err == nil {
			for _, r := range reqs {
				if r.Field == "spec.nodeName" && (r.Operator == selection.Equals || r.Operator == selection.DoubleEquals) && r.Value == node {
					return allow()
				}
			}
		}
		return noOpinion("node %q may only list and watch pods with the field selector spec.nodeName=%s", node, node)
	case (sub == "" && (verb == "get" || verb == "list" || verb == "watch")) || (sub == "status" && (verb == "get" || verb == "update" || verb == "patch")):
		if a.g.podOn(node, ns, name) {
			return allow()
		}
		return noOpinion("no relationship found between node %q and this pod", node)
	}
	return authorizer.DecisionNoOpinion, "", nil
}

// volumes: a node reads the PersistentVolumes its pods' claims are bound
// to, by name; it lists and watches its local-path volumes (the label
// selector LocalPathNodeLabel=NODE) and updates them (it removes their
// directory and then LocalPathFinalizer).
func (a *Authorizer) volumes(node, verb, sub, name string, attrs authorizer.Attributes) (authorizer.Decision, string, error) {
	switch {
	case sub == "" && (verb == "list" || verb == "watch") && name == "":
		reqs, err := attrs.GetLabelSelector()
		if err == nil {
			for _, r := range reqs {
				if r.Key() == LocalPathNodeLabel && (r.Operator() == selection.Equals || r.Operator() == selection.DoubleEquals) &&
					r.Values().Len() == 1 && r.Values().Has(node) {
					return allow()
				}
			}
		}
		return noOpinion("node %q may only list and watch persistentvolumes with the label selector %s=%s", node, LocalPathNodeLabel, node)
	case sub == "" && (verb == "get" || verb == "list" || verb == "watch"):
		if a.g.usesVolume(node, name) || a.g.localVolumeOn(node, name) {
			return allow()
		}
	case sub == "" && (verb == "update" || verb == "patch"):
		if a.g.localVolumeOn(node, name) {
			return allow()
		}
	default:
		return noOpinion("node %q may only read persistentvolumes its pods use and update its local-path volumes", node)
	}
	return noOpinion("no relationship found between node %q and this object", node)
}

// LocalPathNodeLabel names the node of a local-path PersistentVolume
// (control/controllers' provisioner sets it); LocalPathFinalizer keeps
// the volume until that node removed its directory.
const (
	LocalPathNodeLabel = "weir.dev/local-path-node"
	LocalPathFinalizer = "weir.dev/local-path-cleanup"
)

// ConditionsAwareAuthorize is Authorize: the node authorizer makes no
// conditional decisions.
func (a *Authorizer) ConditionsAwareAuthorize(ctx context.Context, attrs authorizer.Attributes) authorizer.ConditionsAwareDecision {
	return authorizer.ConditionsAwareDecisionFromParts(a.Authorize(ctx, attrs))
}

// EvaluateConditions fails closed: there are no conditions to evaluate.
func (a *Authorizer) EvaluateConditions(context.Context, authorizer.ConditionsAwareDecision, authorizer.ConditionsData) (authorizer.Decision, string, error) {
	return authorizer.DecisionDeny, "", authorizer.ErrorConditionEvaluationNotSupported
}
