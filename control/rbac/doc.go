// Package rbac is weir's Kubernetes RBAC: the authorizer and rule
// resolver the API consults, and the default policy.
//
// What it owns:
//   - Index (index.go): every Role, ClusterRole, RoleBinding and
//     ClusterRoleBinding in memory, listed once and then fed by one store
//     watch per kind (relisted when a watch fails). WaitFor(rev) returns
//     once every write up to rev is applied to the index.
//   - Authorizer (authorizer.go): k8s.io/apiserver's authorizer.Authorizer
//     and authorizer.RuleResolver, evaluated as kube's RBAC authorizer
//     does: ClusterRoleBindings grant everywhere, RoleBindings in their
//     namespace (to a Role there or a ClusterRole); subjects are Users,
//     Groups and ServiceAccounts (system:serviceaccount:NS:NAME); rules
//     match verbs, API groups, resources ("*", "res/sub", "*/sub"),
//     resource names and non-resource URLs (exact, "*" or a "prefix*").
//     It allows or has no opinion, never denies, so that it can sit last
//     in a union. Allow reasons and errors (a binding to a missing role)
//     are kube's words.
//   - The bootstrap policy (policy.go): cluster-admin, admin, edit, view
//     (the last three aggregated from system:aggregate-to-* by label),
//     system:discovery, system:basic-user, system:public-info-viewer, the
//     component roles system:kube-controller-manager and
//     system:kube-scheduler with their bindings, system:node (unbound:
//     nodes are the node authorizer's), and cluster-admin bound to
//     system:masters. Reconcile applies it like kube-apiserver's post-start
//     hook: create what is missing, add missing rules and subjects, leave
//     objects annotated rbac.authorization.kubernetes.io/autoupdate=false
//     alone.
//
// What it promises: a decision sees every write this member applied
// before the decision started (it waits up to DefaultSyncTimeout for the
// index to reach the store's revision, then decides on what it has and
// logs that it was behind); reads never go to the store per request.
//
// Not here: the escalation check on RBAC writes and the review and
// impersonation endpoints (control/api), ClusterRole aggregation
// (control/controllers), composing authorizers (control/member).
//
// Testing: rbac_test.go checks rule matching against kube's cases and
// the index against a real store (storetest); control/member's
// rbac_test.go runs users, kubectl `auth can-i`, aggregation and
// escalation against a running member.
package rbac
