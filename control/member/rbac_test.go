package member

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/weirnet/weir/control/controllers"
	"github.com/weirnet/weir/control/controllers/kube"
	"github.com/weirnet/weir/control/controllers/kube/kubetest"
	"github.com/weirnet/weir/control/rbac"
	"github.com/weirnet/weir/control/store/storetest"
)

// rbacEnv is a single running member with its leader loops (so the
// bootstrap policy and the aggregation controller), an admin clientset,
// and users with client certificates from the cluster CA.
type rbacEnv struct {
	t     *testing.T
	ctx   context.Context
	m     *Member
	admin kubernetes.Interface
	dir   string
}

func newRBACEnv(t *testing.T) *rbacEnv {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	m, err := Start(ctx, Config{Name: "m1", DataDir: t.TempDir(), Listen: "127.0.0.1:0", Peer: "127.0.0.1:0",
		Bootstrap: true, Logger: storetest.Logger()})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	wait := m.StartLeaderLoops(ctx, controllers.Config{Resync: 200 * time.Millisecond})
	t.Cleanup(func() { cancel(); wait(); m.Close() })
	if err := m.EnsureDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	admin, err := kube.NewClientset(m.leaderRESTConfig(), "test")
	if err != nil {
		t.Fatal(err)
	}
	e := &rbacEnv{t: t, ctx: ctx, m: m, admin: admin, dir: t.TempDir()}
	// the bootstrap policy is in place and aggregated: view's rules
	// reached edit (view is labelled aggregate-to-edit)
	kubetest.Eventually(t, 30*time.Second, func() string {
		edit, err := admin.RbacV1().ClusterRoles().Get(ctx, "edit", metav1.GetOptions{})
		if err != nil {
			return err.Error()
		}
		for _, r := range edit.Rules {
			for _, res := range r.Resources {
				if res == "pods/log" {
					return ""
				}
			}
		}
		return fmt.Sprintf("edit has not aggregated view's rules: %v", edit.Rules)
	})
	for _, ns := range []string{"team-a", "team-b"} {
		if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// userConfig is a REST config for user name in groups, with a client
// certificate signed by the cluster CA.
func (e *rbacEnv) userConfig(name string, groups ...string) *rest.Config {
	cert, err := IssueClientCert(e.m.tls.CA(), name, groups, time.Hour)
	if err != nil {
		e.t.Fatal(err)
	}
	return &rest.Config{Host: e.m.APIURL(), TLSClientConfig: rest.TLSClientConfig{CAData: cert.CAPEM, CertData: cert.CertPEM, KeyData: cert.KeyPEM}}
}

func (e *rbacEnv) user(name string, groups ...string) kubernetes.Interface {
	cs, err := kube.NewClientset(e.userConfig(name, groups...), "test")
	if err != nil {
		e.t.Fatal(err)
	}
	return cs
}

// kubeconfig writes a kubeconfig for cfg and returns its path.
func (e *rbacEnv) kubeconfig(name string, cfg *rest.Config) string {
	c := clientcmdapi.NewConfig()
	c.Clusters["weir"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	c.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: cfg.BearerToken, ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData}
	c.Contexts["weir"] = &clientcmdapi.Context{Cluster: "weir", AuthInfo: name, Namespace: "default"}
	c.CurrentContext = "weir"
	p := filepath.Join(e.dir, name+".kubeconfig")
	if err := clientcmd.WriteToFile(*c, p); err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *rbacEnv) bind(ns, name, role string, subjects ...rbacv1.Subject) {
	e.t.Helper()
	var err error
	ref := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role}
	if ns == "" {
		_, err = e.admin.RbacV1().ClusterRoleBindings().Create(e.ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef: ref, Subjects: subjects}, metav1.CreateOptions{})
	} else {
		_, err = e.admin.RbacV1().RoleBindings(ns).Create(e.ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef: ref, Subjects: subjects}, metav1.CreateOptions{})
	}
	if err != nil {
		e.t.Fatal(err)
	}
}

func userSubject(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: name}
}

// wantForbidden checks err is kube's 403 with exactly msg.
func wantForbidden(t *testing.T, what string, err error, msg string) {
	t.Helper()
	if !apierrors.IsForbidden(err) {
		t.Errorf("%s: got %v, want 403", what, err)
		return
	}
	if msg != "" && err.Error() != msg {
		t.Errorf("%s:\n got  %q\n want %q", what, err.Error(), msg)
	}
}

// TestRBACUsers: a view user reads but cannot read Secrets or write; an
// edit user bound in one namespace writes there and nowhere else; each
// binding is used right after it is written (the authorizer waits for its
// index to reach the write).
func TestRBACUsers(t *testing.T) {
	e := newRBACEnv(t)
	ctx := e.ctx
	e.bind("default", "v-view", "view", userSubject("v"))
	v := e.user("v")
	if _, err := v.CoreV1().Pods("default").List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("view user lists pods: %v", err)
	}
	_, err := v.CoreV1().Secrets("default").List(ctx, metav1.ListOptions{})
	wantForbidden(t, "view user lists secrets", err,
		`secrets is forbidden: User "v" cannot list resource "secrets" in API group "" in the namespace "default"`)
	_, err = v.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{})
	wantForbidden(t, "view user creates a configmap", err,
		`configmaps is forbidden: User "v" cannot create resource "configmaps" in API group "" in the namespace "default"`)
	err = v.CoreV1().Pods("default").Delete(ctx, "p", metav1.DeleteOptions{})
	wantForbidden(t, "view user deletes a pod", err, `pods "p" is forbidden: User "v" cannot delete resource "pods" in API group "" in the namespace "default"`)
	_, err = v.CoreV1().Pods("team-a").List(ctx, metav1.ListOptions{})
	wantForbidden(t, "view user lists pods in another namespace", err, "")
	_, err = v.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	wantForbidden(t, "view user lists nodes", err, `nodes is forbidden: User "v" cannot list resource "nodes" in API group "" at the cluster scope`)

	e.bind("team-a", "e-edit", "edit", userSubject("e"))
	ed := e.user("e", "devs")
	if _, err := ed.CoreV1().ConfigMaps("team-a").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c"}}, metav1.CreateOptions{}); err != nil {
		t.Errorf("edit user creates a configmap in team-a: %v", err)
	}
	if _, err := ed.CoreV1().Secrets("team-a").List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("edit user lists secrets in team-a: %v", err)
	}
	_, err = ed.CoreV1().ConfigMaps("team-b").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c"}}, metav1.CreateOptions{})
	wantForbidden(t, "edit user creates in team-b", err,
		`configmaps is forbidden: User "e" cannot create resource "configmaps" in API group "" in the namespace "team-b"`)
	_, err = ed.CoreV1().ConfigMaps("team-b").List(ctx, metav1.ListOptions{})
	wantForbidden(t, "edit user lists in team-b", err, "")
	_, err = ed.RbacV1().RoleBindings("team-a").List(ctx, metav1.ListOptions{})
	wantForbidden(t, "edit user lists rolebindings", err, "")

	// a group binding works as well: devs may view team-b
	e.bind("team-b", "devs-view", "view", rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "devs"})
	if _, err := ed.CoreV1().ConfigMaps("team-b").List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("devs member lists configmaps in team-b: %v", err)
	}
	// and deleting the binding takes the right away at once
	if err := e.admin.RbacV1().RoleBindings("team-b").Delete(ctx, "devs-view", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = ed.CoreV1().ConfigMaps("team-b").List(ctx, metav1.ListOptions{})
	wantForbidden(t, "edit user lists in team-b after the unbinding", err, "")

	// every user may discover the API and review itself
	if _, err := v.Discovery().ServerGroups(); err != nil {
		t.Errorf("view user discovery: %v", err)
	}
	// SubjectAccessReview: an admin may ask about others; v may not
	sar := &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{User: "v",
		ResourceAttributes: &authzv1.ResourceAttributes{Namespace: "default", Verb: "get", Resource: "pods"}}}
	got, err := e.admin.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
	if err != nil || !got.Status.Allowed || !strings.Contains(got.Status.Reason, `RoleBinding "v-view/default" of ClusterRole "view" to User "v"`) {
		t.Errorf("SubjectAccessReview of v getting pods: %+v, %v", got, err)
	}
	sar.Spec.ResourceAttributes.Resource = "secrets"
	if got, err := e.admin.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{}); err != nil || got.Status.Allowed {
		t.Errorf("SubjectAccessReview of v getting secrets: %+v, %v", got, err)
	}
	_, err = v.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
	wantForbidden(t, "view user posts a SubjectAccessReview", err, "")
}

// TestRBACEscalation: a namespace admin may create roles and bindings
// only with rules they hold (or with escalate / bind), and the roleRef of
// a binding cannot change.
func TestRBACEscalation(t *testing.T) {
	e := newRBACEnv(t)
	ctx := e.ctx
	e.bind("team-a", "a-admin", "admin", userSubject("a"))
	a := e.user("a")
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "cm-reader"},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"get", "list"}, APIGroups: []string{""}, Resources: []string{"configmaps"}}}}
	if _, err := a.RbacV1().Roles("team-a").Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatalf("admin creates a role it holds: %v", err)
	}
	nodes := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "too-much"},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"nodes"}}}}
	_, err := a.RbacV1().Roles("team-a").Create(ctx, nodes, metav1.CreateOptions{})
	wantForbidden(t, "admin creates a role with rules it lacks", err,
		`roles.rbac.authorization.k8s.io "too-much" is forbidden: user "a" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:`+
			"\n"+`{APIGroups:[""], Resources:["nodes"], Verbs:["get"]}`)
	// a role in a namespace it does not administer is not even reachable
	_, err = a.RbacV1().Roles("team-b").Create(ctx, role, metav1.CreateOptions{})
	wantForbidden(t, "admin creates a role in team-b", err, "")

	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "x-edit"},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit"}, Subjects: []rbacv1.Subject{userSubject("x")}}
	if _, err := a.RbacV1().RoleBindings("team-a").Create(ctx, rb, metav1.CreateOptions{}); err != nil {
		t.Errorf("admin binds edit, which it holds: %v", err)
	}
	ca := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "x-admin"},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"}, Subjects: []rbacv1.Subject{userSubject("x")}}
	_, err = a.RbacV1().RoleBindings("team-a").Create(ctx, ca, metav1.CreateOptions{})
	wantForbidden(t, "admin binds cluster-admin", err, "")
	if err != nil && !strings.Contains(err.Error(), "is attempting to grant RBAC permissions not currently held") {
		t.Errorf("binding cluster-admin refused for another reason: %v", err)
	}
	// with `bind` on cluster-admin, the same binding is allowed
	if _, err := e.admin.RbacV1().Roles("team-a").Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "binder"},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"bind"}, APIGroups: []string{rbacv1.GroupName}, Resources: []string{"clusterroles"}, ResourceNames: []string{"cluster-admin"}}}},
		metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.admin.RbacV1().RoleBindings("team-a").Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "a-binder"},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "binder"}, Subjects: []rbacv1.Subject{userSubject("a")}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.RbacV1().RoleBindings("team-a").Create(ctx, ca, metav1.CreateOptions{}); err != nil {
		t.Errorf("admin with bind on cluster-admin binds it: %v", err)
	}
	// roleRef is immutable (422), as in kube
	cur, err := e.admin.RbacV1().RoleBindings("team-a").Get(ctx, "x-edit", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cur.RoleRef.Name = "view"
	_, err = e.admin.RbacV1().RoleBindings("team-a").Update(ctx, cur, metav1.UpdateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "roleRef: Invalid value") || !strings.Contains(err.Error(), "cannot change roleRef") {
		t.Errorf("changing roleRef: %v, want 422 cannot change roleRef", err)
	}
	// unknown subject kinds are refused
	bad := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "bad"},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"}, Subjects: []rbacv1.Subject{{Kind: "Robot", Name: "r"}}}
	if _, err := e.admin.RbacV1().ClusterRoleBindings().Create(ctx, bad, metav1.CreateOptions{}); !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), `subjects[0].kind: Unsupported value: "Robot"`) {
		t.Errorf("unknown subject kind: %v", err)
	}
	// an aggregationRule needs full authority
	agg := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "grab"}, AggregationRule: &rbacv1.AggregationRule{
		ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"x": "y"}}}}}
	e.bind("", "a-crwriter", "system:aggregate-to-admin", userSubject("a")) // roles/rolebindings everywhere
	if _, err := e.admin.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "cr-writer"},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"create"}, APIGroups: []string{rbacv1.GroupName}, Resources: []string{"clusterroles"}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.bind("", "a-cr-writer", "cr-writer", userSubject("a"))
	_, err = a.RbacV1().ClusterRoles().Create(ctx, agg, metav1.CreateOptions{})
	wantForbidden(t, "non-admin creates an aggregated clusterrole", err,
		`clusterroles.rbac.authorization.k8s.io "grab" is forbidden: must have cluster-admin privileges to use the aggregationRule`)
}

// TestRBACAggregation: a ClusterRole labelled aggregate-to-view shows up
// in view, and through it in edit and admin; removing it takes it out.
func TestRBACAggregation(t *testing.T) {
	e := newRBACEnv(t)
	ctx := e.ctx
	widgets := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "widget-viewer", Labels: map[string]string{rbac.AggregateToView: "true"}},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"get", "list"}, APIGroups: []string{"example.com"}, Resources: []string{"widgets"}}}}
	if _, err := e.admin.RbacV1().ClusterRoles().Create(ctx, widgets, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	has := func(role string) bool {
		r, err := e.admin.RbacV1().ClusterRoles().Get(ctx, role, metav1.GetOptions{})
		if err != nil {
			return false
		}
		for _, rule := range r.Rules {
			if len(rule.Resources) == 1 && rule.Resources[0] == "widgets" {
				return true
			}
		}
		return false
	}
	kubetest.Eventually(t, 20*time.Second, func() string {
		for _, role := range []string{"view", "edit", "admin"} {
			if !has(role) {
				return role + " lacks the widgets rule"
			}
		}
		return ""
	})
	e.bind("default", "w-view", "view", userSubject("w"))
	sar := &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{User: "w",
		ResourceAttributes: &authzv1.ResourceAttributes{Namespace: "default", Verb: "list", Group: "example.com", Resource: "widgets"}}}
	if got, err := e.admin.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{}); err != nil || !got.Status.Allowed {
		t.Errorf("view holder lists widgets: %+v, %v", got, err)
	}
	if err := e.admin.RbacV1().ClusterRoles().Delete(ctx, "widget-viewer", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	kubetest.Eventually(t, 20*time.Second, func() string {
		if has("view") || has("admin") {
			return "the widgets rule is still aggregated"
		}
		return ""
	})
}

// TestRBACKubectl: real kubectl's `auth can-i`, with --as and --list,
// answers for each identity; impersonation needs the impersonate verb.
func TestRBACKubectl(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("kubectl is not installed: run make deps")
		}
		t.Skip("kubectl is not installed")
	}
	e := newRBACEnv(t)
	ctx := e.ctx
	e.bind("default", "v-view", "view", userSubject("v"))
	e.bind("team-a", "e-edit", "edit", userSubject("e"))
	adminCfg := e.m.leaderRESTConfig()
	admin := e.kubeconfig("admin", adminCfg)
	vcfg := e.kubeconfig("v", e.userConfig("v"))
	run := func(kc string, args ...string) (string, int) {
		t.Helper()
		c, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(c, kubectl, append([]string{"--kubeconfig", kc}, args...)...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("kubectl %v: %v", args, err)
		}
		if code != 0 && len(strings.TrimSpace(string(out))) == 0 {
			return strings.TrimSpace(stderr.String()), code // the error, when there is no answer
		}
		return strings.TrimSpace(string(out)), code
	}
	for _, c := range []struct {
		kc   string
		args []string
		want string
	}{
		{admin, []string{"auth", "can-i", "list", "secrets"}, "yes"},
		{admin, []string{"auth", "can-i", "list", "secrets", "--as", "v"}, "no"},
		{admin, []string{"auth", "can-i", "list", "pods", "--as", "v"}, "yes"},
		{admin, []string{"auth", "can-i", "list", "pods", "--as", "v", "-n", "team-a"}, "no"},
		{admin, []string{"auth", "can-i", "create", "configmaps", "--as", "e", "-n", "team-a"}, "yes"},
		{admin, []string{"auth", "can-i", "create", "configmaps", "--as", "e", "-n", "team-b"}, "no"},
		{admin, []string{"auth", "can-i", "create", "deployments.apps", "--as", "e", "-n", "team-a"}, "yes"},
		{admin, []string{"auth", "can-i", "get", "nodes", "--as", "e"}, "no"},
		{admin, []string{"auth", "can-i", "get", "/healthz", "--as", "e"}, "yes"},
		{vcfg, []string{"auth", "can-i", "list", "pods"}, "yes"},
		{vcfg, []string{"auth", "can-i", "get", "secrets"}, "no"},
		{vcfg, []string{"auth", "can-i", "list", "pods", "--as", "e"}, ""}, // v may not impersonate
	} {
		out, code := run(c.kc, c.args...)
		if c.want == "" {
			if code == 0 || !strings.Contains(out, `users "e" is forbidden: User "v" cannot impersonate resource "users" in API group "" at the cluster scope`) {
				t.Errorf("kubectl %v: %q (exit %d), want the impersonation refused", c.args, out, code)
			}
			continue
		}
		if out != c.want {
			t.Errorf("kubectl %v: %q (exit %d), want %q", c.args, out, code, c.want)
		}
	}
	// kubectl's own RBAC commands
	for _, args := range [][]string{
		{"create", "clusterrole", "pod-getter", "--verb=get", "--resource=pods"},
		{"create", "rolebinding", "z-pod-getter", "--clusterrole=pod-getter", "--user=z", "-n", "team-a"},
		{"apply", "-f", writeTestFile(t, e.dir, "role.yaml", "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\n"+
			"metadata: {name: cm, namespace: team-a}\nrules:\n- {apiGroups: [\"\"], resources: [configmaps], verbs: [list]}\n")},
		{"create", "rolebinding", "z-cm", "--role=cm", "--user=z", "-n", "team-a"},
	} {
		if out, code := run(admin, args...); code != 0 {
			t.Errorf("kubectl %v: %s (exit %d)", args, out, code)
		}
	}
	for args, want := range map[string]string{
		"get pods -n team-a": "yes", "list configmaps -n team-a": "yes", "get pods -n default": "no", "list pods -n team-a": "no",
	} {
		if out, _ := run(admin, append([]string{"auth", "can-i", "--as", "z"}, strings.Fields(args)...)...); out != want {
			t.Errorf("kubectl auth can-i %s --as z: %q, want %q", args, out, want)
		}
	}
	// the RBAC kinds print as kubectl's tables
	if out, code := run(admin, "get", "rolebindings", "-n", "team-a"); code != 0 ||
		!regexp.MustCompile(`(?m)^NAME +ROLE +AGE\ne-edit +ClusterRole/edit +\S+$`).MatchString(out) {
		t.Errorf("kubectl get rolebindings -n team-a:\n%s", out)
	}
	if out, code := run(admin, "get", "clusterrole", "view"); code != 0 || !regexp.MustCompile(`(?m)^NAME +CREATED AT\nview +\d{4}-`).MatchString(out) {
		t.Errorf("kubectl get clusterrole view:\n%s", out)
	}
	// --list: v's rules in default include view's, not secrets
	out, code := run(vcfg, "auth", "can-i", "--list")
	if code != 0 || !strings.Contains(out, "pods ") || strings.Contains(out, "secrets ") || !strings.Contains(out, "selfsubjectaccessreviews.authorization.k8s.io") {
		t.Errorf("kubectl auth can-i --list as v:\n%s", out)
	}
	out, code = run(admin, "auth", "can-i", "--list", "--as", "e", "-n", "team-a")
	if code != 0 || !strings.Contains(out, "secrets ") || !strings.Contains(out, "deployments.apps ") {
		t.Errorf("kubectl auth can-i --list --as e -n team-a:\n%s", out)
	}
	out, _ = run(admin, "auth", "can-i", "--list", "--as", "e", "-n", "team-b")
	if strings.Contains(out, "secrets ") || strings.Contains(out, "configmaps ") {
		t.Errorf("kubectl auth can-i --list --as e -n team-b lists team-a's rights:\n%s", out)
	}
	// with the impersonate verb on user e, v may act as e (and only as e)
	if _, err := e.admin.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "impersonate-e"},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"impersonate"}, APIGroups: []string{""}, Resources: []string{"users"}, ResourceNames: []string{"e"}}}},
		metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.bind("", "v-impersonates-e", "impersonate-e", userSubject("v"))
	if out, code := run(vcfg, "auth", "can-i", "create", "configmaps", "-n", "team-a", "--as", "e"); out != "yes" {
		t.Errorf("v as e creates configmaps in team-a: %q (exit %d)", out, code)
	}
	if out, _ := run(vcfg, "auth", "whoami", "--as", "e", "-o", "jsonpath={.status.userInfo.username}"); out != "e" {
		t.Errorf("v as e: whoami says %q", out)
	}
	if out, code := run(vcfg, "auth", "can-i", "list", "pods", "--as", "a"); code == 0 {
		t.Errorf("v as a (not allowed): %q", out)
	}
	if out, code := run(vcfg, "auth", "can-i", "list", "pods", "--as", "e", "--as-group", "system:masters"); code == 0 {
		t.Errorf("v as e in system:masters (group impersonation not allowed): %q", out)
	}
}

// TestComponentIdentities: with only their bootstrap roles, the
// controllers (system:kube-controller-manager) and the scheduler
// (system:kube-scheduler) still do their work: a Deployment's pods are
// created and bound, its status written, a Service gets its
// EndpointSlice, a new namespace its default ServiceAccount, and the
// garbage collector removes a deleted Deployment's ReplicaSet.
func TestComponentIdentities(t *testing.T) {
	e := newRBACEnv(t)
	ctx, c := e.ctx, e.admin
	n, err := c.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-a"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n.Status.Allocatable = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"),
		corev1.ResourceMemory: resource.MustParse("4Gi"), corev1.ResourcePods: resource.MustParse("10")}
	n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, LastHeartbeatTime: metav1.Now()}}
	n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "10.0.0.1"}}
	if _, err := c.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	two := int32(2)
	labels := map[string]string{"app": "web"}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "team-a"},
		Spec: appsv1.DeploymentSpec{Replicas: &two, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}}}
	if _, err := c.AppsV1().Deployments("team-a").Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "team-a"},
		Spec: corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{{Port: 80}}}}
	if _, err := c.CoreV1().Services("team-a").Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	kubetest.Eventually(t, 45*time.Second, func() string {
		pods, err := c.CoreV1().Pods("team-a").List(ctx, metav1.ListOptions{})
		if err != nil {
			return err.Error()
		}
		bound := 0
		for _, p := range pods.Items {
			if p.Spec.NodeName == "node-a" {
				bound++
			}
		}
		if bound != 2 {
			return fmt.Sprintf("%d of %d pods bound", bound, len(pods.Items))
		}
		got, err := c.AppsV1().Deployments("team-a").Get(ctx, "web", metav1.GetOptions{})
		if err != nil || got.Status.Replicas != 2 {
			return fmt.Sprintf("deployment status: %+v %v", got.Status, err)
		}
		slices, err := c.DiscoveryV1().EndpointSlices("team-a").List(ctx, metav1.ListOptions{})
		if err != nil || len(slices.Items) == 0 {
			return fmt.Sprintf("no endpointslice for the service: %v", err)
		}
		if _, err := c.CoreV1().ServiceAccounts("team-a").Get(ctx, "default", metav1.GetOptions{}); err != nil {
			return "default service account: " + err.Error()
		}
		// the root CA publisher and the kubernetes Service's endpoints
		// (the ready members, from /weir/v1/members)
		if _, err := c.CoreV1().ConfigMaps("team-a").Get(ctx, "kube-root-ca.crt", metav1.GetOptions{}); err != nil {
			return "kube-root-ca.crt: " + err.Error()
		}
		api, err := c.DiscoveryV1().EndpointSlices("default").List(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=kubernetes"})
		if err != nil || len(api.Items) == 0 { // (a loopback member is no endpoint)
			return fmt.Sprintf("no endpoints for the kubernetes service: %v", err)
		}
		return ""
	})
	if err := c.AppsV1().Deployments("team-a").Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	kubetest.Eventually(t, 45*time.Second, func() string {
		rs, err := c.AppsV1().ReplicaSets("team-a").List(ctx, metav1.ListOptions{})
		if err != nil || len(rs.Items) != 0 {
			return fmt.Sprintf("%d replicasets left (%v)", len(rs.Items), err)
		}
		return ""
	})
}

func writeTestFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLocalSubjectAccessReview: a namespace admin asks, in its namespace,
// what another user may do there (client-go's typed client); it may not ask
// in a namespace it does not administer; kube's validation answers
// attributes for another namespace and non-resource attributes.
func TestLocalSubjectAccessReview(t *testing.T) {
	e := newRBACEnv(t)
	ctx := e.ctx
	e.bind("team-a", "a-admin", "admin", userSubject("a"))
	e.bind("team-a", "x-view", "view", userSubject("x"))
	a := e.user("a")
	review := func(ns, verb, resource string) *authzv1.LocalSubjectAccessReview {
		return &authzv1.LocalSubjectAccessReview{ObjectMeta: metav1.ObjectMeta{Namespace: ns},
			Spec: authzv1.SubjectAccessReviewSpec{User: "x", ResourceAttributes: &authzv1.ResourceAttributes{Namespace: ns, Verb: verb, Resource: "pods"}}}
	}
	got, err := a.AuthorizationV1().LocalSubjectAccessReviews("team-a").Create(ctx, review("team-a", "list", "pods"), metav1.CreateOptions{})
	if err != nil || !got.Status.Allowed || !strings.Contains(got.Status.Reason, `RoleBinding "x-view/team-a" of ClusterRole "view" to User "x"`) {
		t.Errorf("x lists pods in team-a: %+v, %v", got, err)
	}
	if got, err := a.AuthorizationV1().LocalSubjectAccessReviews("team-a").Create(ctx, review("team-a", "delete", "pods"), metav1.CreateOptions{}); err != nil || got.Status.Allowed {
		t.Errorf("x deletes pods in team-a: %+v, %v", got, err)
	}
	_, err = a.AuthorizationV1().LocalSubjectAccessReviews("team-b").Create(ctx, review("team-b", "list", "pods"), metav1.CreateOptions{})
	wantForbidden(t, "team-a's admin reviews in team-b", err, "")
	in := review("team-a", "list", "pods")
	in.Spec.ResourceAttributes.Namespace = "team-b"
	_, err = a.AuthorizationV1().LocalSubjectAccessReviews("team-a").Create(ctx, in, metav1.CreateOptions{})
	if !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), "spec.resourceAttributes.namespace must match namespace: team-a") {
		t.Errorf("attributes for another namespace: %v", err)
	}
	in = review("team-a", "list", "pods")
	in.Spec.ResourceAttributes, in.Spec.NonResourceAttributes = nil, &authzv1.NonResourceAttributes{Verb: "get", Path: "/healthz"}
	_, err = a.AuthorizationV1().LocalSubjectAccessReviews("team-a").Create(ctx, in, metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "disallowed on this kind of request") {
		t.Errorf("non-resource attributes: %v", err)
	}
}
