package api_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const kubectlDeployYAML = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: x
spec:
  replicas: 1
  selector:
    matchLabels: {app: x}
  template:
    metadata:
      labels: {app: x}
    spec:
      containers:
      - name: c
        image: img:1
        ports: [{containerPort: 8080, name: http}]
        env: [{name: MODE, value: prod}]
      - name: side
        image: side:1
        ports: [{containerPort: 9090}]
`

func TestKubectlPatchAndApply(t *testing.T) {
	k := newKubectlEnv(t)

	// client-side apply twice: created, then unchanged (a no-op patch)
	if out := k.mustKubectl(t, kubectlDeployYAML, "apply", "-f", "-"); !strings.Contains(out, "deployment.apps/x created") {
		t.Fatalf("first apply: %s", out)
	}
	rv := getDeploy(t, k.env, "x").ResourceVersion
	if out := k.mustKubectl(t, kubectlDeployYAML, "apply", "-f", "-"); !strings.Contains(out, "deployment.apps/x unchanged") {
		t.Fatalf("second apply: %s", out)
	}
	if d := getDeploy(t, k.env, "x"); d.ResourceVersion != rv || d.Annotations[corev1.LastAppliedConfigAnnotation] == "" {
		t.Fatalf("second apply wrote (rv %s, was %s) or lost the last-applied annotation", d.ResourceVersion, rv)
	}
	// a changed manifest is a strategic merge patch that keeps the other container
	changed := strings.Replace(kubectlDeployYAML, "replicas: 1", "replicas: 3", 1)
	if out := k.mustKubectl(t, changed, "apply", "-f", "-"); !strings.Contains(out, "deployment.apps/x configured") {
		t.Fatalf("third apply: %s", out)
	}

	// set image keeps the container's ports and env, and the other container
	k.mustKubectl(t, "", "set", "image", "deployment/x", "c=img:2")
	d := getDeploy(t, k.env, "x")
	c, side := container(d, "c"), container(d, "side")
	if c == nil || side == nil || c.Image != "img:2" || len(c.Ports) != 1 || c.Ports[0].ContainerPort != 8080 ||
		len(c.Env) != 1 || c.Env[0].Value != "prod" || side.Image != "side:1" || len(side.Ports) != 1 || *d.Spec.Replicas != 3 {
		t.Fatalf("after set image: replicas %d containers %+v", *d.Spec.Replicas, d.Spec.Template.Spec.Containers)
	}
	managedEntry(t, d.ManagedFields, "kubectl-set", "")

	// JSON patch, and a failing test operation
	k.mustKubectl(t, "", "patch", "deployment", "x", "--type=json", "-p", `[{"op":"replace","path":"/spec/replicas","value":2},{"op":"add","path":"/metadata/labels","value":{"tier":"web"}}]`)
	d = getDeploy(t, k.env, "x")
	if *d.Spec.Replicas != 2 || d.Labels["tier"] != "web" {
		t.Fatalf("after JSON patch: replicas %d labels %v", *d.Spec.Replicas, d.Labels)
	}
	if out, ok := k.kubectl(t, "", "patch", "deployment", "x", "--type=json", "-p", `[{"op":"test","path":"/spec/replicas","value":7}]`); ok ||
		!strings.Contains(out, "is invalid") && !strings.Contains(out, "rejected our request") {
		t.Fatalf("failing test op: ok=%v %s", ok, out)
	}
	// merge and strategic patches from kubectl patch
	k.mustKubectl(t, "", "patch", "deployment", "x", "--type=merge", "-p", `{"metadata":{"annotations":{"a":"b"}}}`)
	k.mustKubectl(t, "", "patch", "deployment", "x", "-p", `{"spec":{"template":{"spec":{"containers":[{"name":"side","$patch":"delete"}]}}}}`)
	if d = getDeploy(t, k.env, "x"); d.Annotations["a"] != "b" || len(d.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("after merge and strategic patches: %v %+v", d.Annotations, d.Spec.Template.Spec.Containers)
	}

	// kubectl edit, with an editor that changes the image
	editor := filepath.Join(k.dir, "editor.sh")
	if err := os.WriteFile(editor, []byte("#!/bin/sh\nsed -i 's/image: img:2/image: img:edited/' \"$1\"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	k.mustKubectlEnv(t, []string{"KUBE_EDITOR=" + editor}, "edit", "deployment", "x")
	if d = getDeploy(t, k.env, "x"); d.Spec.Template.Spec.Containers[0].Image != "img:edited" || len(d.Spec.Template.Spec.Containers[0].Env) != 1 {
		t.Fatalf("after edit: %+v", d.Spec.Template.Spec.Containers)
	}
	managedEntry(t, d.ManagedFields, "kubectl-edit", "")

	// rollout undo to a revision kept in a ReplicaSet the Deployment controls
	// (written here: no controller runs in this test)
	rs := appsv1.ReplicaSet{
		TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSet"},
		ObjectMeta: metav1.ObjectMeta{Name: "x-1", Annotations: map[string]string{"deployment.kubernetes.io/revision": "1"},
			Labels:          map[string]string{"app": "x", "pod-template-hash": "1"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: "x", UID: d.UID, Controller: ptrTo(true)}}},
		Spec: appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "x", "pod-template-hash": "1"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "x", "pod-template-hash": "1"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "img:1"}}}}},
	}
	k.req("POST", "/apis/apps/v1/namespaces/default/replicasets", rs).must(t, 201)
	k.mustKubectl(t, "", "rollout", "undo", "deployment/x", "--to-revision=1")
	if d = getDeploy(t, k.env, "x"); len(d.Spec.Template.Spec.Containers) != 1 || d.Spec.Template.Spec.Containers[0].Image != "img:1" ||
		d.Spec.Template.Labels["pod-template-hash"] != "" {
		t.Fatalf("after rollout undo: %+v labels %v", d.Spec.Template.Spec.Containers, d.Spec.Template.Labels)
	}
	managedEntry(t, d.ManagedFields, "kubectl", "") // rollout undo names no manager: the user agent's

	// kubectl scale writes the scale subresource, recorded as such
	k.mustKubectl(t, "", "scale", "deployment/x", "--replicas=4")
	if d = getDeploy(t, k.env, "x"); *d.Spec.Replicas != 4 {
		t.Fatalf("after scale: replicas %d", *d.Spec.Replicas)
	}
	if e := managedEntry(t, d.ManagedFields, "kubectl", "scale"); !strings.Contains(string(e.FieldsV1.Raw), `"f:replicas"`) {
		t.Fatalf("scale entry %s", e.FieldsV1.Raw)
	}

	// the managers show with --show-managed-fields
	out := k.mustKubectl(t, "", "get", "deployment", "x", "-o", "yaml", "--show-managed-fields")
	for _, m := range []string{"manager: kubectl-client-side-apply", "manager: kubectl-patch", "manager: kubectl", "operation: Update"} {
		if !strings.Contains(out, m) {
			t.Fatalf("managedFields lack %q:\n%s", m, out)
		}
	}
	if out := k.mustKubectl(t, "", "get", "deployment", "x", "-o", "yaml"); strings.Contains(out, "managedFields") {
		t.Fatalf("managedFields shown without --show-managed-fields:\n%s", out)
	}
}

func TestKubectlServerSideApply(t *testing.T) {
	k := newKubectlEnv(t)
	cm := func(v string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  k: v" + v + "\n"
	}
	if out := k.mustKubectl(t, cm("1"), "apply", "--server-side", "--field-manager=alice", "-f", "-"); !strings.Contains(out, "configmap/ssa serverside-applied") {
		t.Fatalf("first server-side apply: %s", out)
	}
	k.mustKubectl(t, cm("2"), "apply", "--server-side", "--field-manager=alice", "-f", "-")
	out, ok := k.kubectl(t, cm("3"), "apply", "--server-side", "--field-manager=bob", "-f", "-")
	if ok || !strings.Contains(out, `Apply failed with 1 conflict: conflict with "alice": .data.k`) {
		t.Fatalf("conflicting apply: ok=%v %s", ok, out)
	}
	k.mustKubectl(t, cm("3"), "apply", "--server-side", "--field-manager=bob", "--force-conflicts", "-f", "-")
	out = k.mustKubectl(t, "", "get", "configmap", "ssa", "-o", "yaml", "--show-managed-fields")
	if !strings.Contains(out, "k: v3") || !strings.Contains(out, "manager: bob") || !strings.Contains(out, "operation: Apply") {
		t.Fatalf("after the forced apply:\n%s", out)
	}

	// a Deployment applied server-side, then kubectl set image: both managers tracked
	dep := strings.Replace(kubectlDeployYAML, "name: x", "name: ssad", 1)
	k.mustKubectl(t, dep, "apply", "--server-side", "-f", "-")
	k.mustKubectl(t, "", "set", "image", "deployment/ssad", "c=img:3")
	var d appsv1.Deployment
	k.req("GET", deployPath+"/ssad", nil).must(t, 200).into(t, &d)
	if c := container(d, "c"); c == nil || c.Image != "img:3" || len(c.Env) != 1 || len(c.Ports) != 1 {
		t.Fatalf("after set image: %+v", d.Spec.Template.Spec.Containers)
	}
	managedEntry(t, d.ManagedFields, "kubectl", "")
	managedEntry(t, d.ManagedFields, "kubectl-set", "")
	// re-applying the manifest now conflicts on the image kubectl-set owns
	out, ok = k.kubectl(t, dep, "apply", "--server-side", "-f", "-")
	if ok || !strings.Contains(out, `conflict with "kubectl-set"`) {
		t.Fatalf("re-apply after set image: ok=%v %s", ok, out)
	}
}

func ptrTo[T any](v T) *T { return &v }
