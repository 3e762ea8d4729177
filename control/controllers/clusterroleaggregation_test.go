package controllers_test

import (
	"reflect"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/controllers"
)

// TestAggregateRules: the selected roles' rules, selector by selector and
// name by name, each distinct rule once, never the role's own.
func TestAggregateRules(t *testing.T) {
	rule := func(res string) rbacv1.PolicyRule {
		return rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{res}}
	}
	role := func(name string, labels map[string]string, rules ...rbacv1.PolicyRule) *rbacv1.ClusterRole {
		return &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}, Rules: rules}
	}
	sel := func(k string) metav1.LabelSelector {
		return metav1.LabelSelector{MatchLabels: map[string]string{k: "true"}}
	}
	agg := role("agg", map[string]string{"a": "true"}, rule("stale"))
	agg.AggregationRule = &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{sel("a"), sel("b")}}
	all := []*rbacv1.ClusterRole{
		agg,
		role("z", map[string]string{"a": "true"}, rule("pods")),
		role("m", map[string]string{"a": "true", "b": "true"}, rule("secrets"), rule("pods")),
		role("b-only", map[string]string{"b": "true"}, rule("nodes")),
		role("other", map[string]string{"c": "true"}, rule("everything")),
	}
	got, err := controllers.AggregateRules(agg, all)
	if err != nil {
		t.Fatal(err)
	}
	want := []rbacv1.PolicyRule{rule("secrets"), rule("pods"), rule("nodes")}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("AggregateRules = %v, want %v", got, want)
	}
	if got, _ := controllers.AggregateRules(role("plain", nil, rule("x")), all); got != nil {
		t.Errorf("a role without an aggregationRule: %v", got)
	}
	bad := role("bad", nil)
	bad.AggregationRule = &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "a", Operator: "Bogus"}}}}}
	if _, err := controllers.AggregateRules(bad, all); err == nil {
		t.Error("a bad selector: no error")
	}
}
