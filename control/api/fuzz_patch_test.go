package api

import (
	"encoding/json"
	"testing"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"
)

// FuzzPatch applies arbitrary patch bodies of each type to a stored
// Deployment: every outcome is a patched object or a Status error, never
// a panic.
func FuzzPatch(f *testing.F) {
	reg, err := newRegistry()
	if err != nil {
		f.Fatal(err)
	}
	fm, err := newFieldManagers(reg)
	if err != nil {
		f.Fatal(err)
	}
	res := reg.get("apps", "v1", "deployments")
	cur := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"default","uid":"u","resourceVersion":"5"},
"spec":{"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[
{"name":"web","image":"nginx","ports":[{"containerPort":80}],"env":[{"name":"A","value":"1"}]}]}}}}`
	seeds := []struct {
		typ  byte
		body string
	}{
		{0, `[{"op":"replace","path":"/spec/replicas","value":3},{"op":"test","path":"/metadata/name","value":"web"}]`},
		{1, `{"metadata":{"labels":{"a":null}},"spec":{"replicas":2}}`},
		{2, `{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"web"}],"containers":[{"name":"web","image":"x","$patch":"delete"}]}}}}`},
		{2, `{"metadata":{"$deleteFromPrimitiveList/finalizers":["a"]},"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}`},
		{3, "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 4\n"},
	}
	for _, s := range seeds {
		f.Add(s.typ, []byte(s.body))
	}
	types := []types.PatchType{types.JSONPatchType, types.MergePatchType, types.StrategicMergePatchType, types.ApplyYAMLPatchType}
	f.Fuzz(func(t *testing.T, typ byte, body []byte) {
		p := &patchRequest{typ: types[int(typ)%len(types)], body: body}
		if p.typ == types[3] {
			js, err := yaml.YAMLToJSON(body)
			if err != nil {
				return
			}
			p.apply = &unstructured.Unstructured{}
			if json.Unmarshal(js, &p.apply.Object) != nil || p.apply.Object == nil {
				return
			}
			live := res.newObj()
			if err := json.Unmarshal([]byte(cur), live); err != nil {
				t.Fatal(err)
			}
			rq := &request{verb: "patch", res: res, namespace: "default", name: "web", fieldManager: "fuzz", apply: true}
			_, _ = applyTo(fm.get(rq), rq, p, live)
			return
		}
		if p.typ == types[0] {
			if p.ops, err = jsonpatch.DecodePatch(body); err != nil {
				return
			}
		}
		out, err := p.patchJSON([]byte(cur), res.newObj())
		if err == nil && !json.Valid(out) {
			t.Fatalf("patch produced invalid JSON %q", out)
		}
	})
}
