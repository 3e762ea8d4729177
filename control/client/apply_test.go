package client

import (
	"encoding/json"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/weirnet/weir/control/api/manifest"
)

func decodeOne(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	objs, err := manifest.DecodeManifest([]byte(doc))
	if err != nil || len(objs) != 1 {
		t.Fatalf("decode %q: %v (%d objects)", doc, err, len(objs))
	}
	return objs[0]
}

// fromYAML decodes an object the way the client decodes server answers.
func fromYAML(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	js, err := yaml.YAMLToJSON([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(js); err != nil {
		t.Fatal(err)
	}
	return obj
}

var svcTarget = Target{Resource: Resource{Version: "v1", Name: "services", SingularName: "service", Kind: "Service", Namespaced: true}, Namespace: "default", Name: "web"}

const svcManifest = `
apiVersion: v1
kind: Service
metadata:
  name: web
  labels: {app: web}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: 8080}
`

// live simulates what the server stores after creating desired: defaults
// and allocations added.
func live(t *testing.T, desired *unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	js, _ := json.Marshal(desired.Object)
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(js); err != nil {
		t.Fatal(err)
	}
	obj.SetUID("u-1")
	obj.SetResourceVersion("17")
	obj.SetCreationTimestamp(obj.GetCreationTimestamp())
	_ = unstructured.SetNestedField(obj.Object, "10.96.0.10", "spec", "clusterIP")
	_ = unstructured.SetNestedField(obj.Object, "ClusterIP", "spec", "type")
	ports, _, _ := unstructured.NestedSlice(obj.Object, "spec", "ports")
	ports[0].(map[string]any)["protocol"] = "TCP"
	_ = unstructured.SetNestedSlice(obj.Object, ports, "spec", "ports")
	_ = unstructured.SetNestedField(obj.Object, map[string]any{"loadBalancer": map[string]any{}}, "status")
	return obj
}

func TestDesiredObject(t *testing.T) {
	in := decodeOne(t, svcManifest+"  clusterIP: \"\"\n")
	in.SetResourceVersion("5")
	d, err := desiredObject(in, svcTarget)
	if err != nil {
		t.Fatal(err)
	}
	if d.GetNamespace() != "default" || d.GetResourceVersion() != "" {
		t.Errorf("namespace %q resourceVersion %q, want default and none", d.GetNamespace(), d.GetResourceVersion())
	}
	if in.GetNamespace() != "" || in.GetResourceVersion() != "5" {
		t.Error("desiredObject modified its input")
	}
	var last map[string]any
	if err := json.Unmarshal([]byte(d.GetAnnotations()[LastAppliedAnnotation]), &last); err != nil {
		t.Fatalf("last-applied annotation: %v", err)
	}
	if _, ok := last["metadata"].(map[string]any)["annotations"]; ok {
		t.Error("the last-applied configuration contains annotations although the manifest has none")
	}
	cluster := Target{Resource: Resource{Version: "v1", Name: "namespaces", Kind: "Namespace"}, Name: "x"}
	ns := decodeOne(t, "apiVersion: v1\nkind: Namespace\nmetadata: {name: x, namespace: bogus}\n")
	d, _ = desiredObject(ns, cluster)
	if _, found, _ := unstructured.NestedString(d.Object, "metadata", "namespace"); found {
		t.Error("cluster-scoped object kept metadata.namespace")
	}
}

func TestPlanUpdate(t *testing.T) {
	first, err := desiredObject(decodeOne(t, svcManifest), svcTarget)
	if err != nil {
		t.Fatal(err)
	}
	stored := live(t, first)

	t.Run("same manifest is unchanged despite server defaults", func(t *testing.T) {
		again, _ := desiredObject(decodeOne(t, svcManifest), svcTarget)
		if next := planUpdate(stored, again); next != nil {
			got, _ := yaml.Marshal(next.Object)
			t.Errorf("planUpdate = \n%s\nwant nil (unchanged)", got)
		}
	})

	t.Run("changed field is configured and server fields survive", func(t *testing.T) {
		changed, _ := desiredObject(decodeOne(t, strings.Replace(svcManifest, "targetPort: 8080", "targetPort: 9090", 1)), svcTarget)
		next := planUpdate(stored, changed)
		if next == nil {
			t.Fatal("planUpdate = nil, want an update")
		}
		checkField(t, next, int64(9090), "spec", "ports", "0", "targetPort")
		checkField(t, next, "TCP", "spec", "ports", "0", "protocol")
		checkField(t, next, "10.96.0.10", "spec", "clusterIP")
		checkField(t, next, "17", "metadata", "resourceVersion")
		checkField(t, next, "u-1", "metadata", "uid")
	})

	t.Run("field dropped from the manifest is removed", func(t *testing.T) {
		dropped, _ := desiredObject(decodeOne(t, strings.Replace(svcManifest, "  labels: {app: web}\n", "", 1)), svcTarget)
		next := planUpdate(stored, dropped)
		if next == nil {
			t.Fatal("planUpdate = nil, want an update")
		}
		if _, found, _ := unstructured.NestedMap(next.Object, "metadata", "labels"); found {
			t.Error("labels dropped from the manifest are still there")
		}
	})

	t.Run("fields other writers set are kept", func(t *testing.T) {
		withLabel := stored.DeepCopy()
		withLabel.SetLabels(map[string]string{"app": "web", "team": "ops"})
		again, _ := desiredObject(decodeOne(t, svcManifest), svcTarget)
		if next := planUpdate(withLabel, again); next != nil {
			t.Errorf("a label added by someone else was treated as a change: %v", next.GetLabels())
		}
	})

	t.Run("renamed list element does not inherit the old one's fields", func(t *testing.T) {
		renamed, _ := desiredObject(decodeOne(t, strings.Replace(svcManifest, "{name: http, port: 80,", "{name: web, port: 81,", 1)), svcTarget)
		next := planUpdate(stored, renamed)
		if next == nil {
			t.Fatal("planUpdate = nil")
		}
		ports, _, _ := unstructured.NestedSlice(next.Object, "spec", "ports")
		if p := ports[0].(map[string]any); p["protocol"] != nil || p["name"] != "web" {
			t.Errorf("port = %v, want the new port alone", p)
		}
	})

	t.Run("null removes a field", func(t *testing.T) {
		nulled, _ := desiredObject(decodeOne(t, svcManifest+"  clusterIP: null\n"), svcTarget)
		next := planUpdate(stored, nulled)
		if next == nil {
			t.Fatal("planUpdate = nil")
		}
		if _, found, _ := unstructured.NestedString(next.Object, "spec", "clusterIP"); found {
			t.Error("clusterIP: null did not remove the field")
		}
	})

	t.Run("live object without annotation is merged, not replaced", func(t *testing.T) {
		foreign := stored.DeepCopy()
		foreign.SetAnnotations(nil)
		again, _ := desiredObject(decodeOne(t, svcManifest), svcTarget)
		next := planUpdate(foreign, again)
		if next == nil {
			t.Fatal("planUpdate = nil, want the annotation added")
		}
		if next.GetAnnotations()[LastAppliedAnnotation] == "" {
			t.Error("annotation not added")
		}
		checkField(t, next, "10.96.0.10", "spec", "clusterIP")
	})
}

func TestMergeDoesNotModifyInputs(t *testing.T) {
	live := fromYAML(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {x: '1', k2: '2'}\n")
	last := map[string]any{"data": map[string]any{"k2": "2"}}
	desired := fromYAML(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {x: '3'}\n")
	liveCopy, desiredCopy := live.DeepCopy(), desired.DeepCopy()
	out := mergeObject(live.Object, last, desired.Object)
	if !equalValues(live.Object, liveCopy.Object) || !equalValues(desired.Object, desiredCopy.Object) {
		t.Error("mergeObject modified its inputs")
	}
	want := map[string]any{"x": "3"}
	if got := out["data"]; !equalValues(got, want) {
		t.Errorf("data = %v, want %v", got, want)
	}
}

func TestEqualValuesNumbers(t *testing.T) {
	if !equalValues(map[string]any{"a": int64(1)}, map[string]any{"a": float64(1)}) {
		t.Error("int64(1) != float64(1)")
	}
	if equalValues(map[string]any{"a": int64(1)}, map[string]any{"a": 1.5}) {
		t.Error("int64(1) == 1.5")
	}
	if equalValues([]any{"a"}, []any{"a", "b"}) || equalValues(map[string]any{"a": nil}, map[string]any{"b": nil}) {
		t.Error("different shapes compared equal")
	}
}

func checkField(t *testing.T, obj *unstructured.Unstructured, want any, path ...string) {
	t.Helper()
	var cur any = obj.Object
	for _, p := range path {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[p]
		case []any:
			i := int(p[0] - '0')
			cur = c[i]
		}
	}
	if !equalJSON(cur, want) {
		t.Errorf("%s = %v (%T), want %v", strings.Join(path, "."), cur, cur, want)
	}
}
