package controllers

import (
	"context"
	"sort"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// AggregateRules is the rules of an aggregated ClusterRole, as kube's
// clusterrole-aggregation controller computes them: the rules of every
// other ClusterRole its selectors match, each selector's matches in name
// order, each distinct rule once. Nil when role has no aggregationRule.
func AggregateRules(role *rbacv1.ClusterRole, all []*rbacv1.ClusterRole) ([]rbacv1.PolicyRule, error) {
	if role.AggregationRule == nil {
		return nil, nil
	}
	rules := []rbacv1.PolicyRule{}
	for i := range role.AggregationRule.ClusterRoleSelectors {
		sel, err := metav1.LabelSelectorAsSelector(&role.AggregationRule.ClusterRoleSelectors[i])
		if err != nil {
			return nil, err
		}
		var matched []*rbacv1.ClusterRole
		for _, r := range all {
			if r.Name != role.Name && sel.Matches(labels.Set(r.Labels)) {
				matched = append(matched, r)
			}
		}
		sort.Slice(matched, func(a, b int) bool { return matched[a].Name < matched[b].Name })
		for _, r := range matched {
			for _, rule := range r.Rules {
				if !hasRule(rules, rule) {
					rules = append(rules, rule)
				}
			}
		}
	}
	return rules, nil
}

func hasRule(rules []rbacv1.PolicyRule, r rbacv1.PolicyRule) bool {
	for _, have := range rules {
		if equality.Semantic.DeepEqual(have, r) {
			return true
		}
	}
	return false
}

// watchClusterRoles feeds the aggregation controller (key: the name of a
// ClusterRole with an aggregationRule): any ClusterRole change may change
// what any aggregated role selects, so each enqueues them all.
func (m *Manager) watchClusterRoles(h *handlers) {
	h.onAny(m.in.clusterRoles, func(any) {
		all, err := m.in.crLister.List(labels.Everything())
		if err != nil {
			return
		}
		for _, r := range all {
			if r.AggregationRule != nil {
				m.loops.clusterroleaggregation.add(r.Name)
			}
		}
	})
}

// syncClusterRoleAggregation writes the aggregated rules of one
// ClusterRole when they differ from its rules. Aggregated roles that
// select aggregated roles (view into edit into admin) settle as each
// update enqueues them again.
func (m *Manager) syncClusterRoleAggregation(ctx context.Context, name string, _ time.Time) (time.Duration, error) {
	role, err := m.in.crLister.Get(name)
	if err != nil || role.AggregationRule == nil {
		return 0, nil
	}
	all, err := m.in.crLister.List(labels.Everything())
	if err != nil {
		return 0, err
	}
	rules, err := AggregateRules(role, all)
	if err != nil {
		m.warn("aggregate clusterrole: bad selector", role, err)
		return 0, nil
	}
	if equality.Semantic.DeepEqual(rules, role.Rules) {
		return 0, nil
	}
	upd := role.DeepCopy()
	upd.Rules = rules
	if _, err := m.c.RbacV1().ClusterRoles().Update(ctx, upd, metav1.UpdateOptions{FieldManager: "clusterrole-aggregation-controller"}); err != nil {
		if apierrors.IsNotFound(err) {
			return 0, nil
		}
		m.warnUnlessRace("aggregate clusterrole", role, err)
		return 0, err
	}
	return 0, nil
}
