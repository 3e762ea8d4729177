package rbac

import (
	"context"
	"fmt"
	"sort"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apiserver/pkg/authentication/serviceaccount"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// Authorizer is Kubernetes' RBAC authorizer over an Index: a request is
// allowed when a rule of a role bound to its user (by name, by one of its
// groups, or as a ServiceAccount) matches it. It never denies: a request
// no rule allows gets no opinion, so that a later authorizer in a union
// may still allow it.
type Authorizer struct {
	ix *Index
	// revision is the store revision a decision must see (the member's
	// applied revision); nil: decide on what the index holds.
	revision func() uint64
}

// NewAuthorizer decides from ix. Each decision first waits (at most
// DefaultSyncTimeout) until ix has caught up with revision(), so that a
// binding written just before is seen.
func NewAuthorizer(ix *Index, revision func() uint64) *Authorizer {
	return &Authorizer{ix: ix, revision: revision}
}

var (
	_ authorizer.Authorizer   = (*Authorizer)(nil)
	_ authorizer.RuleResolver = (*Authorizer)(nil)
)

// sync waits for the index to reach the store's revision, bounded.
func (a *Authorizer) sync(ctx context.Context) {
	if a.revision == nil {
		return
	}
	rev := a.revision()
	if a.ix.Synced() >= rev {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultSyncTimeout)
	defer cancel()
	if !a.ix.WaitFor(ctx, rev) {
		a.ix.log.Warn("rbac: deciding on an index behind the store", "index", a.ix.Synced(), "store", rev)
	}
}

// Authorize is RBACAuthorizer.Authorize: allowed with the binding that
// allowed it as the reason ("RBAC: allowed by ClusterRoleBinding ..."),
// otherwise no opinion, with the errors met on the way (a binding to a
// missing role) as the reason.
func (a *Authorizer) Authorize(ctx context.Context, attrs authorizer.Attributes) (authorizer.Decision, string, error) {
	a.sync(ctx)
	var errs []error
	reason := ""
	allowed := false
	a.visitRulesFor(attrs.GetUser(), attrs.GetNamespace(), func(source fmt.Stringer, rule *rbacv1.PolicyRule, err error) bool {
		if err != nil {
			errs = append(errs, err)
			return true
		}
		if RuleAllows(attrs, rule) {
			allowed, reason = true, fmt.Sprintf("RBAC: allowed by %s", source)
			return false
		}
		return true
	})
	if allowed {
		return authorizer.DecisionAllow, reason, nil
	}
	if len(errs) > 0 {
		reason = fmt.Sprintf("RBAC: %v", utilerrors.NewAggregate(errs))
	}
	return authorizer.DecisionNoOpinion, reason, nil
}

// ConditionsAwareAuthorize is Authorize: RBAC has no conditions.
func (a *Authorizer) ConditionsAwareAuthorize(ctx context.Context, attrs authorizer.Attributes) authorizer.ConditionsAwareDecision {
	return authorizer.ConditionsAwareDecisionFromParts(a.Authorize(ctx, attrs))
}

// EvaluateConditions fails closed: RBAC has no conditions.
func (a *Authorizer) EvaluateConditions(context.Context, authorizer.ConditionsAwareDecision, authorizer.ConditionsData) (authorizer.Decision, string, error) {
	return authorizer.DecisionDeny, "", authorizer.ErrorConditionEvaluationNotSupported
}

// RulesFor lists the rules u holds in namespace (cluster-wide ones
// included), as kube's RBAC authorizer does for SelfSubjectRulesReview;
// incomplete is true when a binding names a missing role.
func (a *Authorizer) RulesFor(ctx context.Context, u user.Info, namespace string) ([]authorizer.ResourceRuleInfo, []authorizer.NonResourceRuleInfo, bool, error) {
	rules, err := a.PolicyRulesFor(ctx, u, namespace)
	var res []authorizer.ResourceRuleInfo
	var nonRes []authorizer.NonResourceRuleInfo
	for _, r := range rules {
		if len(r.Resources) > 0 {
			res = append(res, &authorizer.DefaultResourceRuleInfo{Verbs: r.Verbs, APIGroups: r.APIGroups, Resources: r.Resources, ResourceNames: r.ResourceNames})
		}
		if len(r.NonResourceURLs) > 0 {
			nonRes = append(nonRes, &authorizer.DefaultNonResourceRuleInfo{Verbs: r.Verbs, NonResourceURLs: r.NonResourceURLs})
		}
	}
	return res, nonRes, err != nil, err
}

// PolicyRulesFor is the rules u holds in namespace, with the errors met
// resolving them (the rules are then incomplete).
func (a *Authorizer) PolicyRulesFor(ctx context.Context, u user.Info, namespace string) ([]rbacv1.PolicyRule, error) {
	a.sync(ctx)
	var rules []rbacv1.PolicyRule
	var errs []error
	a.visitRulesFor(u, namespace, func(_ fmt.Stringer, rule *rbacv1.PolicyRule, err error) bool {
		if err != nil {
			errs = append(errs, err)
		} else {
			rules = append(rules, *rule)
		}
		return true
	})
	return rules, utilerrors.NewAggregate(errs)
}

// roleRefRules is the rules of the role a binding in namespace refers
// to, with ix.mu held; the errors are kube's.
func (a *Authorizer) roleRefRules(ref rbacv1.RoleRef, namespace string) ([]rbacv1.PolicyRule, error) {
	switch ref.Kind {
	case "Role":
		r, ok := a.ix.roles[namespace][ref.Name]
		if !ok {
			return nil, apierrors.NewNotFound(rbacv1.Resource("role"), ref.Name)
		}
		return r.Rules, nil
	case "ClusterRole":
		r, ok := a.ix.clusterRoles[ref.Name]
		if !ok {
			return nil, apierrors.NewNotFound(rbacv1.Resource("clusterrole"), ref.Name)
		}
		return r.Rules, nil
	}
	return nil, fmt.Errorf("unsupported role reference kind: %q", ref.Kind)
}

// visitRulesFor calls visit with every rule u holds in namespace: first
// those of ClusterRoleBindings (in name order), then those of the
// namespace's RoleBindings; an error is a binding whose role is missing.
// It stops when visit returns false.
func (a *Authorizer) visitRulesFor(u user.Info, namespace string, visit func(source fmt.Stringer, rule *rbacv1.PolicyRule, err error) bool) {
	if u == nil {
		return
	}
	ix := a.ix
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	for _, name := range sortedKeys(ix.clusterRoleBindings) {
		b := ix.clusterRoleBindings[name]
		i, ok := appliesTo(u, b.Subjects, "")
		if !ok {
			continue
		}
		rules, err := a.roleRefRules(b.RoleRef, "")
		if err != nil {
			if !visit(nil, nil, err) {
				return
			}
			continue
		}
		src := bindingSource{kind: "ClusterRoleBinding", name: b.Name, ref: b.RoleRef, subject: b.Subjects[i]}
		for j := range rules {
			if !visit(src, &rules[j], nil) {
				return
			}
		}
	}
	if namespace == "" {
		return
	}
	bindings := ix.roleBindings[namespace]
	for _, name := range sortedKeys(bindings) {
		b := bindings[name]
		i, ok := appliesTo(u, b.Subjects, namespace)
		if !ok {
			continue
		}
		rules, err := a.roleRefRules(b.RoleRef, namespace)
		if err != nil {
			if !visit(nil, nil, err) {
				return
			}
			continue
		}
		src := bindingSource{kind: "RoleBinding", name: b.Name + "/" + b.Namespace, ns: namespace, ref: b.RoleRef, subject: b.Subjects[i]}
		for j := range rules {
			if !visit(src, &rules[j], nil) {
				return
			}
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// bindingSource describes the binding that granted a rule, in kube's
// words: `ClusterRoleBinding "x" of ClusterRole "y" to User "z"`.
type bindingSource struct {
	kind, name, ns string
	ref            rbacv1.RoleRef
	subject        rbacv1.Subject
}

func (s bindingSource) String() string {
	subj := fmt.Sprintf("%s %q", s.subject.Kind, s.subject.Name)
	if s.subject.Kind == rbacv1.ServiceAccountKind {
		ns := s.subject.Namespace
		if ns == "" {
			ns = s.ns
		}
		subj = fmt.Sprintf("%s %q", s.subject.Kind, s.subject.Name+"/"+ns)
	}
	return fmt.Sprintf("%s %q of %s %q to %s", s.kind, s.name, s.ref.Kind, s.ref.Name, subj)
}

// appliesTo is the index of the first subject that names u.
func appliesTo(u user.Info, subjects []rbacv1.Subject, namespace string) (int, bool) {
	for i, s := range subjects {
		if appliesToUser(u, s, namespace) {
			return i, true
		}
	}
	return 0, false
}

// appliesToUser is kube's: a User by name, a Group by membership, a
// ServiceAccount as system:serviceaccount:NS:NAME (NS defaulting to the
// binding's namespace).
func appliesToUser(u user.Info, s rbacv1.Subject, namespace string) bool {
	switch s.Kind {
	case rbacv1.UserKind:
		return u.GetName() == s.Name
	case rbacv1.GroupKind:
		for _, g := range u.GetGroups() {
			if g == s.Name {
				return true
			}
		}
		return false
	case rbacv1.ServiceAccountKind:
		ns := namespace
		if s.Namespace != "" {
			ns = s.Namespace
		}
		return ns != "" && serviceaccount.MatchesUsername(ns, s.Name, u.GetName())
	}
	return false
}

// RuleAllows reports whether rule allows the request attrs, as kube's
// RBAC does: verbs, API groups, resources ("*", "resource/subresource",
// "*/subresource") and resource names for resource requests; verbs and
// non-resource URLs (exact, "*", or a prefix ending in "*") otherwise.
func RuleAllows(attrs authorizer.Attributes, rule *rbacv1.PolicyRule) bool {
	if attrs.IsResourceRequest() {
		combined := attrs.GetResource()
		if sub := attrs.GetSubresource(); sub != "" {
			combined += "/" + sub
		}
		return verbMatches(rule, attrs.GetVerb()) && apiGroupMatches(rule, attrs.GetAPIGroup()) &&
			resourceMatches(rule, combined, attrs.GetSubresource()) && resourceNameMatches(rule, attrs.GetName())
	}
	return verbMatches(rule, attrs.GetVerb()) && nonResourceURLMatches(rule, attrs.GetPath())
}

func verbMatches(rule *rbacv1.PolicyRule, verb string) bool {
	for _, v := range rule.Verbs {
		if v == rbacv1.VerbAll || v == verb {
			return true
		}
	}
	return false
}

func apiGroupMatches(rule *rbacv1.PolicyRule, group string) bool {
	for _, g := range rule.APIGroups {
		if g == rbacv1.APIGroupAll || g == group {
			return true
		}
	}
	return false
}

func resourceMatches(rule *rbacv1.PolicyRule, combined, sub string) bool {
	for _, r := range rule.Resources {
		if r == rbacv1.ResourceAll || r == combined {
			return true
		}
		if sub != "" && len(r) == len(sub)+2 && strings.HasPrefix(r, "*/") && strings.HasSuffix(r, sub) {
			return true
		}
	}
	return false
}

func resourceNameMatches(rule *rbacv1.PolicyRule, name string) bool {
	if len(rule.ResourceNames) == 0 {
		return true
	}
	for _, n := range rule.ResourceNames {
		if n == name {
			return true
		}
	}
	return false
}

func nonResourceURLMatches(rule *rbacv1.PolicyRule, path string) bool {
	for _, u := range rule.NonResourceURLs {
		if u == rbacv1.NonResourceAll || u == path ||
			(strings.HasSuffix(u, "*") && strings.HasPrefix(path, strings.TrimRight(u, "*"))) {
			return true
		}
	}
	return false
}
