package client_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/weirnet/weir/control/client"
	"github.com/weirnet/weir/vocab/manifest"
)

func objects(t *testing.T, doc string) []*unstructured.Unstructured {
	t.Helper()
	objs, err := manifest.DecodeManifest([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func apply(t *testing.T, c *client.Client, doc string, ns client.NamespaceOptions) []client.ApplyResult {
	t.Helper()
	var out []client.ApplyResult
	for _, o := range objects(t, doc) {
		r, err := c.Apply(ctxT(t), o, ns)
		if err != nil {
			t.Fatalf("apply %s %s: %v", o.GetKind(), o.GetName(), err)
		}
		out = append(out, r)
	}
	return out
}

func actions(rs []client.ApplyResult) string {
	var s []string
	for _, r := range rs {
		s = append(s, r.Target.String()+" "+r.Action)
	}
	return strings.Join(s, "; ")
}

const appManifest = `
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop, labels: {app: web, tier: front}}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx:1.27}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
data: {mode: prod}
`

// TestE2EApplyLifecycle applies a manifest, re-applies it unchanged,
// changes it, drops a field, and deletes everything, through the real API.
func TestE2EApplyLifecycle(t *testing.T) {
	c := newCluster(t).client
	ctx := ctxT(t)
	ns := client.NamespaceOptions{Namespace: "default"}

	got := actions(apply(t, c, appManifest, ns))
	want := "namespace/shop created; service/web created; deployment.apps/web created; configmap/settings created"
	if got != want {
		t.Fatalf("first apply: %s\nwant %s", got, want)
	}
	svcRes, _ := c.ResolveResource(ctx, "svc")
	svc, err := c.Get(ctx, svcRes.GVR(), "shop", "web")
	if err != nil {
		t.Fatal(err)
	}
	clusterIP, _, _ := unstructured.NestedString(svc.Object, "spec", "clusterIP")
	if !strings.HasPrefix(clusterIP, "10.") {
		t.Fatalf("service got clusterIP %q, want one allocated from 10.96.0.0/12", clusterIP)
	}

	got = actions(apply(t, c, appManifest, ns))
	want = "namespace/shop unchanged; service/web unchanged; deployment.apps/web unchanged; configmap/settings unchanged"
	if got != want {
		t.Fatalf("re-apply: %s\nwant %s", got, want)
	}

	changed := strings.Replace(appManifest, "targetPort: 8080", "targetPort: 9090", 1)
	changed = strings.Replace(changed, "labels: {app: web, tier: front}", "labels: {app: web}", 1)
	changed = strings.Replace(changed, "replicas: 2", "replicas: 3", 1)
	got = actions(apply(t, c, changed, ns))
	want = "namespace/shop unchanged; service/web configured; deployment.apps/web configured; configmap/settings unchanged"
	if got != want {
		t.Fatalf("changed apply: %s\nwant %s", got, want)
	}
	svc, err = c.Get(ctx, svcRes.GVR(), "shop", "web")
	if err != nil {
		t.Fatal(err)
	}
	if ip, _, _ := unstructured.NestedString(svc.Object, "spec", "clusterIP"); ip != clusterIP {
		t.Errorf("clusterIP changed from %s to %s on update", clusterIP, ip)
	}
	ports, _, _ := unstructured.NestedSlice(svc.Object, "spec", "ports")
	if tp := ports[0].(map[string]any)["targetPort"]; fmt.Sprint(tp) != "9090" {
		t.Errorf("targetPort = %v, want 9090", tp)
	}
	if _, ok := svc.GetLabels()["tier"]; ok {
		t.Error("label dropped from the manifest is still on the service")
	}
	deployRes, _ := c.ResolveResource(ctx, "deploy")
	dep, _ := c.Get(ctx, deployRes.GVR(), "shop", "web")
	if r, _, _ := unstructured.NestedInt64(dep.Object, "spec", "replicas"); r != 3 {
		t.Errorf("replicas = %d, want 3", r)
	}

	list, err := c.List(ctx, svcRes.GVR(), "shop", client.ListOptions{LabelSelector: "app=web"})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("list by label: %d items, %v", len(list.Items), err)
	}
	list, err = c.List(ctx, svcRes.GVR(), "", client.ListOptions{FieldSelector: "metadata.namespace=shop"})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("list all namespaces by field: %d items, %v", len(list.Items), err)
	}

	for _, o := range objects(t, appManifest)[1:] {
		tg, err := c.TargetOf(ctx, o, ns)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Delete(ctx, tg.Resource.GVR(), tg.Namespace, tg.Name); err != nil {
			t.Fatalf("delete %s: %v", tg, err)
		}
		if _, err := c.Get(ctx, tg.Resource.GVR(), tg.Namespace, tg.Name); !apierrors.IsNotFound(err) {
			t.Errorf("get %s after delete: %v, want NotFound", tg, err)
		}
	}
}

// TestE2EApplyNamespaces checks the namespace rules: the manifest's, else
// the default, and a clash with an explicit -n is refused.
func TestE2EApplyNamespaces(t *testing.T) {
	c := newCluster(t).client
	ctx := ctxT(t)
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"
	r := apply(t, c, cm, client.NamespaceOptions{Namespace: "kube-public"})
	if r[0].Target.Namespace != "kube-public" || r[0].Object.GetNamespace() != "kube-public" {
		t.Errorf("object without namespace went to %q", r[0].Object.GetNamespace())
	}
	inManifest := objects(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: kube-system}\n")[0]
	if _, err := c.Apply(ctx, inManifest, client.NamespaceOptions{Namespace: "default", Explicit: true}); err == nil ||
		!strings.Contains(err.Error(), "does not match") {
		t.Errorf("namespace clash: err = %v", err)
	}
	res, err := c.Apply(ctx, inManifest, client.NamespaceOptions{Namespace: "default"})
	if err != nil || res.Target.Namespace != "kube-system" {
		t.Errorf("manifest namespace: %+v, %v", res.Target, err)
	}
	missing := objects(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: nowhere}\n")[0]
	_, err = c.Apply(ctx, missing, client.NamespaceOptions{Namespace: "default"})
	if !apierrors.IsNotFound(err) {
		t.Errorf("apply into a missing namespace: err = %v, want NotFound from the server", err)
	}
}

// TestE2EConcurrentApplies races appliers on one object: every Apply
// succeeds (conflicts are retried) and the object ends as one of them.
func TestE2EConcurrentApplies(t *testing.T) {
	c := newCluster(t).client
	ctx := ctxT(t)
	const n = 6
	var wg sync.WaitGroup
	errs := make(chan error, n*4)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 4 {
				doc := fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: race}\ndata: {writer: w%d, round: r%d}\n", i, j)
				if _, err := c.Apply(ctx, objects(t, doc)[0], client.NamespaceOptions{Namespace: "default"}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent apply: %v", err)
	}
	res, _ := c.ResolveResource(ctx, "cm")
	obj, err := c.Get(ctx, res.GVR(), "default", "race")
	if err != nil {
		t.Fatal(err)
	}
	data, _, _ := unstructured.NestedStringMap(obj.Object, "data")
	if len(data) != 2 || !strings.HasPrefix(data["writer"], "w") || !strings.HasPrefix(data["round"], "r") {
		t.Errorf("final data %v is not one writer's", data)
	}
}
