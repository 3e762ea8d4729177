package nodee2e

import (
	"context"
	"crypto/md5"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/weirnet/weir/node/runtime/testimage"
)

// saScript runs in the pod: it shows what the projected volume holds,
// then calls the API through the `kubernetes` Service's ClusterIP with
// the mounted token, trusting only the mounted ca.crt (the test image's
// in-cluster client: SelfSubjectReview, who am I) until it answers, and
// checks that the mount is read-only.
const saScript = `D=/var/run/secrets/kubernetes.io/serviceaccount
echo "NS $(cat $D/namespace)"
echo "CA $(busybox md5sum $D/ca.crt | cut -c1-32)"
i=0
while [ $i -lt 60 ]; do
  if out=$(/weir-testserver apicall https://10.96.0.1/apis/authentication.k8s.io/v1/selfsubjectreviews '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}' 2>&1); then
    echo "WHOAMI $out"; break
  fi
  echo "FAIL $out"; i=$((i+1)); sleep 1
done
echo "PODS $(/weir-testserver apicall https://10.96.0.1/api/v1/namespaces/default/pods 2>&1 | cut -c1-12)"
echo "SECRETS $(/weir-testserver apicall https://10.96.0.1/api/v1/namespaces/default/secrets 2>&1 | cut -c1-12)"
echo "NODES $(/weir-testserver apicall https://10.96.0.1/api/v1/nodes 2>&1 | cut -c1-12)"
if (echo x > $D/token) 2>/dev/null; then echo WRITABLE; else echo READONLY; fi
sleep 1000`

// TestServiceAccountTokenInPod: a pod gets the default ServiceAccount and
// its projected kube-api-access volume; the agent writes a token bound to
// the pod, the cluster CA and the namespace there; from inside the pod the
// token authenticates to the API through the kubernetes Service as
// system:serviceaccount:default:default with the pod's extras; the mount
// is read-only; RBAC governs it: bound to a Role that lists pods, it lists
// pods and reads no Secrets and no Nodes; once the pod is deleted the same token is refused. A pod
// with automountServiceAccountToken false has no such directory.
func TestServiceAccountTokenInPod(t *testing.T) {
	c, n, _, uids := onePodNode(t)
	// The member answers pods through the underlay: route the node's pod
	// CIDR there, as weir up does (localcluster/podroutes.go).
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	obj, err := c.api.Get(ctx, gvrNodes, "", n.name)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	cidr, _, _ := unstructured.NestedString(obj.Object, "spec", "podCIDR")
	if cidr == "" {
		t.Fatalf("node %s has no pod CIDR", n.name)
	}
	c.ul.Run(t, "ip", "route", "replace", cidr, "via", n.ip)
	grace := int64(1)
	pod := func(name, script string, automount *bool) *corev1.Pod {
		return &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
			Spec: corev1.PodSpec{NodeName: n.name, TerminationGracePeriodSeconds: &grace, AutomountServiceAccountToken: automount,
				Containers: []corev1.Container{{Name: "main", Image: testimage.Name, ImagePullPolicy: corev1.PullNever,
					Command: []string{"/bin/sh", "-c", script}}}}}
	}
	// The default ServiceAccount may list pods in its namespace, nothing
	// else.
	c.createTyped(t, schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"}, &rbacv1.Role{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
		ObjectMeta: metav1.ObjectMeta{Name: "pod-reader", Namespace: "default"},
		Rules:      []rbacv1.PolicyRule{{Verbs: []string{"get", "list"}, APIGroups: []string{""}, Resources: []string{"pods"}}}})
	c.createTyped(t, schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"}, &rbacv1.RoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
		ObjectMeta: metav1.ObjectMeta{Name: "default-reads-pods", Namespace: "default"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "pod-reader"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "default", Namespace: "default"}}})
	c.createTyped(t, gvrPods, pod("sa-client", saScript, nil))
	c.createTyped(t, gvrPods, pod("no-token", `if [ -e /var/run/secrets/kubernetes.io/serviceaccount ]; then echo PRESENT; else echo ABSENT; fi; sleep 1000`, new(false)))
	waitFor(t, "pods Running", 90*time.Second, func() bool {
		return c.podRunning(t, "sa-client", uids) && c.podRunning(t, "no-token", uids)
	})
	p, _ := c.getPod(t, "sa-client")
	if p.Spec.ServiceAccountName != "default" || len(p.Spec.Volumes) != 1 || !strings.HasPrefix(p.Spec.Volumes[0].Name, "kube-api-access-") {
		t.Fatalf("sa-client spec: %+v", p.Spec)
	}

	wl := &weirCLI{c: c, t: t}
	var logs string
	var caPEM []byte
	waitDetail(t, "the pod's API call", 90*time.Second, func() bool {
		logs, _, _ = wl.run(nil, "logs", "sa-client")
		return strings.Contains(logs, "READONLY") || strings.Contains(logs, "WRITABLE")
	}, func() string { return logs })
	t.Logf("sa-client:\n%s", logs)
	caPEM, err = os.ReadFile(filepath.Join(c.dir, "member", "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"NS default\n", fmt.Sprintf("CA %x\n", md5.Sum(caPEM)), `"username":"system:serviceaccount:default:default"`,
		`"system:serviceaccounts:default"`, `"authentication.kubernetes.io/pod-name":["sa-client"]`,
		`"authentication.kubernetes.io/pod-uid":["` + string(p.UID) + `"]`, `"authentication.kubernetes.io/node-name":["` + n.name + `"]`, "WHOAMI HTTP 201 ",
		"PODS HTTP 200 ", "SECRETS HTTP 403 ", "NODES HTTP 403 ", "READONLY"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the pod's output lacks %s", want)
		}
	}
	out, _, _ := wl.run(nil, "logs", "no-token")
	if strings.TrimSpace(out) != "ABSENT" {
		t.Errorf("no-token pod: %q", out)
	}

	// The token the agent wrote (as the pod reads it) stops working once
	// the pod is deleted.
	tok, err := os.ReadFile(filepath.Join(n.dir, "pods", "pods", string(p.UID), "volumes", p.Spec.Volumes[0].Name, "token"))
	if err != nil {
		t.Fatal(err)
	}
	asPod := func() (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, "nsenter", "--net=/run/netns/"+c.ul.Name, c.weir, "get", "pods", "--server", apiAddr,
			"--token", string(tok), "--certificate-authority", filepath.Join(c.dir, "member", "ca.crt"))
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + c.dir}
		b, err := cmd.CombinedOutput()
		return string(b), err
	}
	if out, err := asPod(); err != nil {
		t.Fatalf("the pod's token from outside, pod alive: %v: %s", err, out)
	}
	c.deletePod(t, "sa-client")
	waitFor(t, "sa-client gone", 60*time.Second, func() bool { _, ok := c.getPod(t, "sa-client"); return !ok })
	if out, err := asPod(); err == nil || !strings.Contains(out, "Unauthorized") {
		t.Fatalf("the deleted pod's token still works: %v: %s", err, out)
	}
}
