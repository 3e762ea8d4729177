package rbac_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/weirnet/weir/control/rbac"
	"github.com/weirnet/weir/control/store"
	"github.com/weirnet/weir/control/store/storetest"
)

func TestRuleAllows(t *testing.T) {
	res := func(verb, group, resource, sub, name string) authorizer.Attributes {
		return &authorizer.AttributesRecord{Verb: verb, APIGroup: group, Resource: resource, Subresource: sub, Name: name, ResourceRequest: true}
	}
	path := func(verb, p string) authorizer.Attributes { return &authorizer.AttributesRecord{Verb: verb, Path: p} }
	rule := func(verbs, groups, resources, names string) rbacv1.PolicyRule {
		split := func(s string) []string {
			if s == "-" {
				return nil
			}
			return strings.Split(s, ",")
		}
		return rbacv1.PolicyRule{Verbs: split(verbs), APIGroups: split(groups), Resources: split(resources), ResourceNames: split(names)}
	}
	urls := func(verbs string, u ...string) rbacv1.PolicyRule {
		return rbacv1.PolicyRule{Verbs: strings.Split(verbs, ","), NonResourceURLs: u}
	}
	for _, c := range []struct {
		name  string
		rule  rbacv1.PolicyRule
		attrs authorizer.Attributes
		want  bool
	}{
		{"exact", rule("get", ",apps", "pods", "-"), res("get", "", "pods", "", "p"), true},
		{"other verb", rule("get", "", "pods", "-"), res("list", "", "pods", "", ""), false},
		{"other group", rule("get", "apps", "pods", "-"), res("get", "", "pods", "", ""), false},
		{"verb *", rule("*", "", "pods", "-"), res("delete", "", "pods", "", ""), true},
		{"group *", rule("get", "*", "deployments", "-"), res("get", "apps", "deployments", "", ""), true},
		{"resource *", rule("get", "", "*", "-"), res("get", "", "secrets", "", ""), true},
		{"resource * covers subresources", rule("get", "", "*", "-"), res("get", "", "pods", "log", ""), true},
		{"resource does not cover its subresource", rule("get", "", "pods", "-"), res("get", "", "pods", "log", ""), false},
		{"resource/subresource", rule("get", "", "pods/log", "-"), res("get", "", "pods", "log", ""), true},
		{"subresource rule does not cover the resource", rule("get", "", "pods/log", "-"), res("get", "", "pods", "", ""), false},
		{"*/subresource", rule("update", "", "*/status", "-"), res("update", "", "nodes", "status", ""), true},
		{"*/subresource, other subresource", rule("update", "", "*/status", "-"), res("update", "", "pods", "binding", ""), false},
		{"resource name", rule("get", "", "configmaps", "a,b"), res("get", "", "configmaps", "", "b"), true},
		{"other resource name", rule("get", "", "configmaps", "a"), res("get", "", "configmaps", "", "c"), false},
		{"resource names and a list (no name)", rule("list", "", "configmaps", "a"), res("list", "", "configmaps", "", ""), false},
		{"url exact", urls("get", "/healthz"), path("get", "/healthz"), true},
		{"url other", urls("get", "/healthz"), path("get", "/healthz/ping"), false},
		{"url prefix *", urls("get", "/apis/*"), path("get", "/apis/apps/v1"), true},
		{"url prefix * matches the bare prefix", urls("get", "/apis/*"), path("get", "/apis/"), true},
		{"url *", urls("*", "*"), path("post", "/anything"), true},
		{"url rule does not match resources", urls("get", "*"), res("get", "", "pods", "", ""), false},
		{"resource rule does not match urls", rule("get", "*", "*", "-"), path("get", "/healthz"), false},
	} {
		if got := rbac.RuleAllows(c.attrs, &c.rule); got != c.want {
			t.Errorf("%s: RuleAllows = %v, want %v", c.name, got, c.want)
		}
	}
}

// put writes obj under the store key of its kind, as the API stores it
// (JSON).
func put(t *testing.T, st store.Interface, resource, ns, name string, obj any) uint64 {
	t.Helper()
	data, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := st.Txn(context.Background(), store.Txn{Ops: []store.Op{{Kind: store.Put, Key: store.Key{Resource: resource, Namespace: ns, Name: name}, Value: data}}})
	if err != nil {
		t.Fatal(err)
	}
	return tr.Revision
}

// TestAuthorizerOnStore: bindings written to the store are used by the
// very next decision (the authorizer waits for its index), for users,
// groups and ServiceAccounts, with kube's reasons; deletions take effect
// as fast.
func TestAuthorizerOnStore(t *testing.T) {
	st := storetest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ix := rbac.NewIndex(st, storetest.Logger())
	done := make(chan struct{})
	go func() { defer close(done); ix.Run(ctx) }()
	defer func() { cancel(); <-done }()
	a := rbac.NewAuthorizer(ix, st.Revision)

	const crs, crbs, rs, rbs = "clusterroles.rbac.authorization.k8s.io", "clusterrolebindings.rbac.authorization.k8s.io",
		"roles.rbac.authorization.k8s.io", "rolebindings.rbac.authorization.k8s.io"
	put(t, st, crs, "", "pod-reader", &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "pod-reader"},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"get", "list"}, APIGroups: []string{""}, Resources: []string{"pods"}}}})
	alice := &user.DefaultInfo{Name: "alice", Groups: []string{"devs", user.AllAuthenticated}}
	sa := &user.DefaultInfo{Name: "system:serviceaccount:ci:builder", Groups: []string{"system:serviceaccounts", "system:serviceaccounts:ci"}}
	listPods := func(u user.Info, ns string) authorizer.Attributes {
		return &authorizer.AttributesRecord{User: u, Verb: "list", Resource: "pods", Namespace: ns, ResourceRequest: true}
	}
	decide := func(attrs authorizer.Attributes) (authorizer.Decision, string) {
		t.Helper()
		start := time.Now()
		d, reason, err := a.Authorize(context.Background(), attrs)
		if err != nil {
			t.Fatal(err)
		}
		if time.Since(start) > time.Second {
			t.Errorf("a decision took %s", time.Since(start))
		}
		return d, reason
	}
	if d, reason := decide(listPods(alice, "default")); d != authorizer.DecisionNoOpinion || reason != "" {
		t.Errorf("alice unbound: %v %q", d, reason)
	}
	put(t, st, rbs, "default", "devs-read", &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "devs-read", Namespace: "default"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "pod-reader"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "devs"}}})
	if d, reason := decide(listPods(alice, "default")); d != authorizer.DecisionAllow ||
		reason != `RBAC: allowed by RoleBinding "devs-read/default" of ClusterRole "pod-reader" to Group "devs"` {
		t.Errorf("alice through devs: %v %q", d, reason)
	}
	if d, _ := decide(listPods(alice, "other")); d != authorizer.DecisionNoOpinion {
		t.Errorf("alice in another namespace: %v", d)
	}
	if d, _ := decide(listPods(alice, "")); d != authorizer.DecisionNoOpinion {
		t.Errorf("alice across namespaces: %v", d)
	}
	// a ServiceAccount subject without a namespace is the binding's
	put(t, st, rs, "ci", "secret-reader", &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "secret-reader", Namespace: "ci"},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{"token"}}}})
	put(t, st, rbs, "ci", "builder", &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "builder", Namespace: "ci"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "secret-reader"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "builder"}}})
	getSecret := &authorizer.AttributesRecord{User: sa, Verb: "get", Resource: "secrets", Namespace: "ci", Name: "token", ResourceRequest: true}
	if d, reason := decide(getSecret); d != authorizer.DecisionAllow ||
		reason != `RBAC: allowed by RoleBinding "builder/ci" of Role "secret-reader" to ServiceAccount "builder/ci"` {
		t.Errorf("service account: %v %q", d, reason)
	}
	// cluster-wide, through a group, and a binding to a missing role
	put(t, st, crbs, "", "all-sa", &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "all-sa"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "pod-reader"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "system:serviceaccounts"}}})
	put(t, st, crbs, "", "dangling", &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "dangling"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "gone"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "alice"}}})
	if d, _ := decide(listPods(sa, "")); d != authorizer.DecisionAllow {
		t.Errorf("service account across namespaces: %v", d)
	}
	if d, reason := decide(listPods(alice, "other")); d != authorizer.DecisionNoOpinion ||
		reason != `RBAC: clusterrole.rbac.authorization.k8s.io "gone" not found` {
		t.Errorf("alice with a dangling binding: %v %q", d, reason)
	}
	res, nonRes, incomplete, err := a.RulesFor(context.Background(), alice, "default")
	if len(res) != 1 || len(nonRes) != 0 || !incomplete || err == nil {
		t.Errorf("RulesFor alice in default: %v %v %v %v", res, nonRes, incomplete, err)
	}
	// deleting the binding takes the right away at once
	if _, err := st.Txn(context.Background(), store.Txn{Ops: []store.Op{{Kind: store.Delete,
		Key: store.Key{Resource: rbs, Namespace: "default", Name: "devs-read"}}}}); err != nil {
		t.Fatal(err)
	}
	if d, _ := decide(listPods(alice, "default")); d != authorizer.DecisionNoOpinion {
		t.Errorf("alice after the unbinding: %v", d)
	}
}
