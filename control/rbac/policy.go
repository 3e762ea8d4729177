package rbac

import (
	"context"
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/client-go/kubernetes"
	"k8s.io/component-helpers/auth/rbac/reconciliation"
)

// The identities of weir's own components, as kube names them.
const (
	ControllerManagerUser = user.KubeControllerManager // system:kube-controller-manager
	SchedulerUser         = user.KubeScheduler         // system:kube-scheduler
)

// The aggregation labels of the default user-facing roles.
const (
	AggregateToAdmin = "rbac.authorization.k8s.io/aggregate-to-admin"
	AggregateToEdit  = "rbac.authorization.k8s.io/aggregate-to-edit"
	AggregateToView  = "rbac.authorization.k8s.io/aggregate-to-view"
)

var (
	read      = []string{"get", "list", "watch"}
	write     = []string{"create", "update", "patch", "delete", "deletecollection"}
	readWrite = append(append([]string(nil), read...), write...)
)

// rule is a resource rule: verbs on resources of groups.
func rule(verbs []string, groups []string, resources ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: verbs, APIGroups: groups, Resources: resources}
}

// urls is a non-resource rule.
func urls(verbs []string, paths ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: verbs, NonResourceURLs: paths}
}

func verbs(v ...string) []string  { return v }
func groups(g ...string) []string { return g }
func events() rbacv1.PolicyRule {
	return rule(verbs("create", "update", "patch"), groups("", "events.k8s.io"), "events")
}
func core() []string                    { return groups("") }
func labels(k string) map[string]string { return map[string]string{k: "true"} }

// bootstrapMeta marks a default object as kube-apiserver does: reconciled
// at start unless annotated autoupdate "false".
func bootstrapMeta(name string, l map[string]string) metav1.ObjectMeta {
	if l == nil {
		l = map[string]string{}
	}
	l["kubernetes.io/bootstrapping"] = "rbac-defaults"
	return metav1.ObjectMeta{Name: name, Labels: l, Annotations: map[string]string{rbacv1.AutoUpdateAnnotationKey: "true"}}
}

// ClusterRoles are the default ClusterRoles, after kube-apiserver's
// bootstrap policy: the user-facing cluster-admin, admin, edit and view
// (the last three aggregated from system:aggregate-to-*), the discovery
// roles every user holds, and the roles of weir's components. Because
// weir runs all its controllers under one identity,
// system:kube-controller-manager holds what kube splits among the
// system:controller:* roles of the controllers weir runs.
func ClusterRoles() []rbacv1.ClusterRole {
	selector := func(label string) *rbacv1.AggregationRule {
		return &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: labels(label)}}}
	}
	return []rbacv1.ClusterRole{
		{ObjectMeta: bootstrapMeta("cluster-admin", nil), Rules: []rbacv1.PolicyRule{
			rule(verbs("*"), groups("*"), "*"),
			urls(verbs("*"), "*"),
		}},
		{ObjectMeta: bootstrapMeta("system:discovery", nil), Rules: []rbacv1.PolicyRule{
			urls(verbs("get"), "/livez", "/readyz", "/healthz", "/version", "/version/", "/openapi", "/openapi/*",
				"/api", "/api/*", "/apis", "/apis/*"),
		}},
		{ObjectMeta: bootstrapMeta("system:public-info-viewer", nil), Rules: []rbacv1.PolicyRule{
			urls(verbs("get"), "/livez", "/readyz", "/healthz", "/version", "/version/"),
		}},
		{ObjectMeta: bootstrapMeta("system:service-account-issuer-discovery", nil), Rules: []rbacv1.PolicyRule{
			urls(verbs("get"), "/.well-known/openid-configuration", "/.well-known/openid-configuration/",
				"/openid/v1/jwks", "/openid/v1/jwks/"),
		}},
		{ObjectMeta: bootstrapMeta("system:basic-user", nil), Rules: []rbacv1.PolicyRule{
			rule(verbs("create"), groups("authorization.k8s.io"), "selfsubjectaccessreviews", "selfsubjectrulesreviews"),
			rule(verbs("create"), groups("authentication.k8s.io"), "selfsubjectreviews"),
		}},
		{ObjectMeta: bootstrapMeta("admin", nil), AggregationRule: selector(AggregateToAdmin)},
		{ObjectMeta: bootstrapMeta("edit", labels(AggregateToAdmin)), AggregationRule: selector(AggregateToEdit)},
		{ObjectMeta: bootstrapMeta("view", labels(AggregateToEdit)), AggregationRule: selector(AggregateToView)},
		{ObjectMeta: bootstrapMeta("system:aggregate-to-admin", labels(AggregateToAdmin)), Rules: []rbacv1.PolicyRule{
			rule(verbs("create"), groups("authorization.k8s.io"), "localsubjectaccessreviews"),
			rule(readWrite, groups(rbacv1.GroupName), "roles", "rolebindings"),
		}},
		{ObjectMeta: bootstrapMeta("system:aggregate-to-edit", labels(AggregateToEdit)), Rules: []rbacv1.PolicyRule{
			rule(read, core(), "pods/attach", "pods/proxy", "pods/exec", "pods/portforward", "secrets", "services/proxy"),
			rule(verbs("impersonate"), core(), "serviceaccounts"),
			rule(write, core(), "pods", "pods/attach", "pods/proxy", "pods/exec", "pods/portforward"),
			rule(verbs("create"), core(), "pods/eviction"),
			rule(write, core(), "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts",
				"services", "services/proxy", "persistentvolumeclaims", "configmaps", "secrets", "events"),
			rule(verbs("create"), core(), "serviceaccounts/token"),
			rule(write, groups("apps"), "statefulsets", "statefulsets/scale", "daemonsets", "deployments",
				"deployments/scale", "deployments/rollback", "replicasets", "replicasets/scale"),
			rule(write, groups("autoscaling"), "horizontalpodautoscalers"),
			rule(write, groups("batch"), "jobs", "cronjobs"),
			rule(write, groups("policy"), "poddisruptionbudgets"),
			rule(write, groups("networking.k8s.io"), "networkpolicies", "ingresses"),
			rule(write, groups("discovery.k8s.io"), "endpointslices"),
			rule(readWrite, groups("coordination.k8s.io"), "leases"),
		}},
		{ObjectMeta: bootstrapMeta("system:aggregate-to-view", labels(AggregateToView)), Rules: []rbacv1.PolicyRule{
			rule(read, core(), "pods", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts",
				"services", "services/status", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "configmaps"),
			rule(read, core(), "limitranges", "resourcequotas", "bindings", "events", "pods/status",
				"resourcequotas/status", "namespaces/status", "replicationcontrollers/status", "pods/log"),
			rule(read, core(), "namespaces"),
			rule(read, groups("discovery.k8s.io"), "endpointslices"),
			rule(read, groups("apps"), "controllerrevisions", "statefulsets", "statefulsets/scale", "statefulsets/status",
				"daemonsets", "daemonsets/status", "deployments", "deployments/scale", "deployments/status",
				"replicasets", "replicasets/scale", "replicasets/status"),
			rule(read, groups("autoscaling"), "horizontalpodautoscalers", "horizontalpodautoscalers/status"),
			rule(read, groups("batch"), "jobs", "cronjobs", "cronjobs/status", "jobs/status"),
			rule(read, groups("policy"), "poddisruptionbudgets", "poddisruptionbudgets/status"),
			rule(read, groups("networking.k8s.io"), "networkpolicies", "ingresses", "ingresses/status"),
		}},
		{ObjectMeta: bootstrapMeta("system:kube-scheduler", nil), Rules: []rbacv1.PolicyRule{
			events(),
			rule(verbs("create"), groups("coordination.k8s.io"), "leases"),
			{Verbs: verbs("get", "update"), APIGroups: groups("coordination.k8s.io"), Resources: []string{"leases"}, ResourceNames: []string{"kube-scheduler"}},
			rule(read, core(), "nodes"),
			rule(verbs("get", "list", "watch", "delete"), core(), "pods"),
			rule(verbs("create"), core(), "pods/binding", "bindings"),
			rule(verbs("patch", "update"), core(), "pods/status"),
			rule(read, core(), "services", "replicationcontrollers"),
			rule(read, groups("apps"), "replicasets", "statefulsets"),
			rule(read, groups("policy"), "poddisruptionbudgets"),
			rule(read, core(), "namespaces"),
			// volume binding: the selected-node annotation on claims
			rule(verbs("get", "list", "watch", "update", "patch"), core(), "persistentvolumeclaims", "persistentvolumes"),
			rule(read, groups("storage.k8s.io"), "storageclasses"),
			rule(verbs("create"), groups("authentication.k8s.io"), "tokenreviews"),
			rule(verbs("create"), groups("authorization.k8s.io"), "subjectaccessreviews"),
		}},
		{ObjectMeta: bootstrapMeta("system:kube-controller-manager", nil), Rules: []rbacv1.PolicyRule{
			events(),
			// shared informers; the garbage collector and the namespace
			// controller act on every kind
			rule(verbs("get", "list", "watch", "update", "patch", "delete", "deletecollection"), groups("*"), "*"),
			// what the replicaset, job, daemonset, cronjob, endpoints, endpointslice, root CA,
			// namespace and node lifecycle controllers create
			rule(verbs("create"), core(), "pods", "pods/eviction", "endpoints", "configmaps", "secrets", "serviceaccounts", "serviceaccounts/token",
				"persistentvolumes"),
			rule(verbs("create"), groups("storage.k8s.io"), "storageclasses"),
			rule(verbs("create"), groups("apps"), "replicasets", "controllerrevisions"),
			// the statefulset controller's pods' claims
			rule(verbs("create"), core(), "persistentvolumeclaims"),
			rule(verbs("create"), groups("batch"), "jobs"),
			rule(verbs("create"), groups("discovery.k8s.io"), "endpointslices"),
			rule(verbs("create"), groups("coordination.k8s.io"), "leases"),
			// the clusterrole aggregation controller writes rules it may not hold
			rule(verbs("escalate"), groups(rbacv1.GroupName), "clusterroles"),
			rule(verbs("create"), groups("authentication.k8s.io"), "tokenreviews"),
			rule(verbs("create"), groups("authorization.k8s.io"), "subjectaccessreviews"),
			// the kubernetes Service's endpoints are the ready members
			urls(verbs("get"), "/weir/v1/members"),
		}},
		{ObjectMeta: bootstrapMeta("system:node", nil), Rules: []rbacv1.PolicyRule{
			rule(verbs("create"), groups("authentication.k8s.io"), "tokenreviews"),
			rule(verbs("create"), groups("authorization.k8s.io"), "subjectaccessreviews", "localsubjectaccessreviews"),
			rule(read, core(), "services"),
			rule(verbs("create", "get", "list", "watch"), core(), "nodes"),
			rule(verbs("update", "patch"), core(), "nodes/status"),
			rule(verbs("update", "patch"), core(), "nodes"),
			events(),
			rule(read, core(), "pods"),
			rule(verbs("create", "delete"), core(), "pods"),
			rule(verbs("update", "patch"), core(), "pods/status"),
			rule(verbs("create"), core(), "pods/eviction"),
			rule(read, core(), "configmaps", "secrets"),
			rule(verbs("get"), core(), "persistentvolumeclaims", "persistentvolumes", "endpoints"),
			rule(verbs("create"), core(), "serviceaccounts/token"),
			rule(verbs("get", "create", "update", "patch", "delete"), groups("coordination.k8s.io"), "leases"),
		}},
	}
}

// ClusterRoleBindings are the default ClusterRoleBindings: cluster-admin
// to system:masters, the discovery roles to every user, and each
// component's role to its user. system:node has no binding: the node
// authorizer decides for nodes.
func ClusterRoleBindings() []rbacv1.ClusterRoleBinding {
	bind := func(role string, subjects ...rbacv1.Subject) rbacv1.ClusterRoleBinding {
		return rbacv1.ClusterRoleBinding{ObjectMeta: bootstrapMeta(role, nil),
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role}, Subjects: subjects}
	}
	group := func(g string) rbacv1.Subject {
		return rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: g}
	}
	usr := func(u string) rbacv1.Subject {
		return rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: u}
	}
	return []rbacv1.ClusterRoleBinding{
		bind("cluster-admin", group(user.SystemPrivilegedGroup)),
		bind("system:discovery", group(user.AllAuthenticated)),
		bind("system:basic-user", group(user.AllAuthenticated)),
		bind("system:public-info-viewer", group(user.AllAuthenticated), group(user.AllUnauthenticated)),
		bind("system:service-account-issuer-discovery", group("system:serviceaccounts")),
		bind("system:kube-controller-manager", usr(ControllerManagerUser)),
		bind("system:kube-scheduler", usr(SchedulerUser)),
	}
}

// Reconcile makes the cluster's default roles and bindings match the
// bootstrap policy, as kube-apiserver's post-start hook does: missing
// ones are created, missing rules, selectors and subjects added (nothing
// removed), and objects annotated rbac.authorization.kubernetes.io/autoupdate
// "false" left alone. cs must be allowed to do so (system:masters).
func Reconcile(ctx context.Context, cs kubernetes.Interface) error {
	for _, r := range ClusterRoles() {
		opts := reconciliation.ReconcileRoleOptions{Role: reconciliation.ClusterRoleRuleOwner{ClusterRole: &r},
			Client: reconciliation.ClusterRoleModifier{Client: cs.RbacV1().ClusterRoles()}, Confirm: true}
		if _, err := opts.Run(); err != nil {
			return fmt.Errorf("reconcile clusterrole %s: %w", r.Name, err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	for _, b := range ClusterRoleBindings() {
		opts := reconciliation.ReconcileRoleBindingOptions{RoleBinding: reconciliation.ClusterRoleBindingAdapter{ClusterRoleBinding: &b},
			Client: reconciliation.ClusterRoleBindingClientAdapter{Client: cs.RbacV1().ClusterRoleBindings()}, Confirm: true}
		if _, err := opts.Run(); err != nil {
			return fmt.Errorf("reconcile clusterrolebinding %s: %w", b.Name, err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}
