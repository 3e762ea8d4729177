package api

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/component-helpers/auth/rbac/validation"

	"github.com/weirnet/weir/control/store"
)

// The escalation check of kube-apiserver's RBAC storage: a user may write
// a Role or ClusterRole only with rules they already hold (or with the
// `escalate` verb on it), and a binding only to a role whose rules they
// already hold (or with the `bind` verb on it); system:masters may do
// both. An aggregationRule needs full authority. It runs on create and
// update, after validation, when Config.RuleResolver is set.

// fullAuthority is cluster-admin's rules: what an aggregationRule needs.
var fullAuthority = []rbacv1.PolicyRule{
	{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}},
	{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}},
}

// admitRBAC refuses (403) a write of an RBAC object that would grant its
// author permissions they do not hold. old is nil on create.
func (s *Server) admitRBAC(ctx context.Context, rq *request, obj, old object) error {
	if s.cfg.RuleResolver == nil || rq.res.Group != rbacv1.GroupName || rq.sub == subInternal {
		return nil
	}
	u := userOf(ctx)
	if u == nil {
		return nil
	}
	for _, g := range u.GetGroups() {
		if g == GroupMasters {
			return nil
		}
	}
	if old != nil && onlyGCFieldsChanged(obj, old) {
		return nil
	}
	res := rq.res
	deny := func(err error) error { return errForbidden(res, obj.GetName(), err) }
	switch o := obj.(type) {
	case *rbacv1.Role:
		if s.allowed(ctx, u, "escalate", "roles", rq.namespace, o.Name) {
			return nil
		}
		return denyErr(deny, s.confirmNoEscalation(ctx, u, rq.namespace, o.Rules))
	case *rbacv1.ClusterRole:
		if s.allowed(ctx, u, "escalate", "clusterroles", "", o.Name) {
			return nil
		}
		if err := s.confirmNoEscalation(ctx, u, "", o.Rules); err != nil {
			return deny(err)
		}
		wasAggregated := false
		if oc, ok := old.(*rbacv1.ClusterRole); ok && oc.AggregationRule != nil {
			wasAggregated = true
		}
		if o.AggregationRule != nil || wasAggregated {
			if s.confirmNoEscalation(ctx, u, "", fullAuthority) != nil {
				return deny(errors.New("must have cluster-admin privileges to use the aggregationRule"))
			}
		}
		return nil
	case *rbacv1.RoleBinding:
		return denyErr(deny, s.confirmBinding(ctx, u, o.RoleRef, rq.namespace))
	case *rbacv1.ClusterRoleBinding:
		return denyErr(deny, s.confirmBinding(ctx, u, o.RoleRef, ""))
	}
	return nil
}

func denyErr(deny func(error) error, err error) error {
	if err != nil {
		return deny(err)
	}
	return nil
}

// allowed asks the authorizer whether u may verb the RBAC resource.
func (s *Server) allowed(ctx context.Context, u user.Info, verb, resource, ns, name string) bool {
	d, _, _ := s.authorize(ctx, &authorizer.AttributesRecord{User: u, Verb: verb, APIGroup: rbacv1.GroupName, APIVersion: "*",
		Resource: resource, Namespace: ns, Name: name, ResourceRequest: true})
	return d == authorizer.DecisionAllow
}

// confirmBinding is kube's check of a binding: `bind` on the role it
// names, or holding every rule of that role.
func (s *Server) confirmBinding(ctx context.Context, u user.Info, ref rbacv1.RoleRef, ns string) error {
	resource := ""
	switch ref.Kind {
	case "Role":
		resource = "roles"
	case "ClusterRole":
		resource = "clusterroles"
	}
	if resource != "" && s.allowed(ctx, u, "bind", resource, ns, ref.Name) {
		return nil
	}
	rules, err := s.roleRefRules(ctx, ref, ns)
	if err != nil {
		return err
	}
	return s.confirmNoEscalation(ctx, u, ns, rules)
}

// roleRefRules reads the rules of the role a binding in ns names.
func (s *Server) roleRefRules(ctx context.Context, ref rbacv1.RoleRef, ns string) ([]rbacv1.PolicyRule, error) {
	plural, singular := "clusterroles", "clusterrole"
	if ref.Kind == "Role" {
		plural, singular = "roles", "role"
	} else {
		ns = ""
	}
	res := s.reg.get(rbacv1.GroupName, "v1", plural)
	if res == nil {
		return nil, fmt.Errorf("unsupported role reference kind: %q", ref.Kind)
	}
	o, err := s.store.Get(ctx, res.key(ns, ref.Name), store.ReadOptions{})
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%s.%s %q not found", singular, rbacv1.GroupName, ref.Name)
	}
	if err != nil {
		return nil, err
	}
	obj, err := res.decodeStored(o)
	if err != nil {
		return nil, err
	}
	switch r := obj.(type) {
	case *rbacv1.Role:
		return r.Rules, nil
	case *rbacv1.ClusterRole:
		return r.Rules, nil
	}
	return nil, nil
}

// confirmNoEscalation is kube's ConfirmNoEscalation: u must hold rules
// in ns already; the error lists what is missing, as kube words it.
func (s *Server) confirmNoEscalation(ctx context.Context, u user.Info, ns string, rules []rbacv1.PolicyRule) error {
	resRules, nonResRules, _, resolveErr := s.cfg.RuleResolver.RulesFor(ctx, u, ns)
	var owner []rbacv1.PolicyRule
	for _, r := range resRules {
		owner = append(owner, rbacv1.PolicyRule{Verbs: r.GetVerbs(), APIGroups: r.GetAPIGroups(), Resources: r.GetResources(), ResourceNames: r.GetResourceNames()})
	}
	for _, r := range nonResRules {
		owner = append(owner, rbacv1.PolicyRule{Verbs: r.GetVerbs(), NonResourceURLs: r.GetNonResourceURLs()})
	}
	covers, missing := validation.Covers(owner, rules)
	if covers {
		return nil
	}
	descs := map[string]bool{}
	for _, r := range compactRules(missing) {
		descs[compactString(r)] = true
	}
	list := make([]string, 0, len(descs))
	for d := range descs {
		list = append(list, d)
	}
	sort.Strings(list)
	msg := fmt.Sprintf("user %q (groups=%q) is attempting to grant RBAC permissions not currently held:\n%s",
		u.GetName(), u.GetGroups(), strings.Join(list, "\n"))
	if resolveErr != nil {
		msg += fmt.Sprintf("; resolution errors: %v", resolveErr)
	}
	return errors.New(msg)
}

// compactRules merges rules that differ only in their verbs, as kube's
// CompactRules does for the simple (one group, one resource) rules
// Covers returns.
func compactRules(rules []rbacv1.PolicyRule) []rbacv1.PolicyRule {
	type key struct{ groups, resources, names, urls string }
	idx := map[key]int{}
	var out []rbacv1.PolicyRule
	for _, r := range rules {
		k := key{strings.Join(r.APIGroups, ","), strings.Join(r.Resources, ","), strings.Join(r.ResourceNames, ","), strings.Join(r.NonResourceURLs, ",")}
		if i, ok := idx[k]; ok {
			out[i].Verbs = append(out[i].Verbs, r.Verbs...)
			continue
		}
		idx[k] = len(out)
		out = append(out, *r.DeepCopy())
	}
	return out
}

// compactString is kube's rbacv1helpers.CompactString:
// {APIGroups:["apps"], Resources:["deployments"], Verbs:["get"]}.
func compactString(r rbacv1.PolicyRule) string {
	var parts []string
	add := func(name string, v []string) {
		if len(v) > 0 {
			parts = append(parts, fmt.Sprintf("%s:%q", name, v))
		}
	}
	add("APIGroups", r.APIGroups)
	add("Resources", r.Resources)
	add("NonResourceURLs", r.NonResourceURLs)
	add("ResourceNames", r.ResourceNames)
	add("Verbs", r.Verbs)
	return "{" + strings.Join(parts, ", ") + "}"
}

// onlyGCFieldsChanged reports whether an update changes nothing but the
// fields the garbage collector writes (ownerReferences, finalizers), as
// kube's IsOnlyMutatingGCFields: such updates need no escalation check.
func onlyGCFieldsChanged(obj, old object) bool {
	a, b := obj.DeepCopyObject().(object), old.DeepCopyObject().(object)
	for _, o := range []object{a, b} {
		o.SetOwnerReferences(nil)
		o.SetFinalizers(nil)
		o.SetManagedFields(nil)
		o.SetResourceVersion("")
		o.SetGeneration(0)
	}
	return reflect.DeepEqual(a, b)
}
