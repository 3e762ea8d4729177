package api

import (
	"encoding/json"
	"testing"
)

// BenchmarkTrackUpdate is the managedFields cost one write of a
// Deployment adds: an Update entry computed from the old and new object.
func BenchmarkTrackUpdate(b *testing.B) {
	reg, err := newRegistry()
	if err != nil {
		b.Fatal(err)
	}
	fm, err := newFieldManagers(reg)
	if err != nil {
		b.Fatal(err)
	}
	res := reg.get("apps", "v1", "deployments")
	old := res.newObj()
	js := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"default","labels":{"app":"web"}},
"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[
{"name":"web","image":"nginx:1","ports":[{"containerPort":80}],"env":[{"name":"A","value":"1"}]}]}}}}`
	if err := json.Unmarshal([]byte(js), old); err != nil {
		b.Fatal(err)
	}
	rq := &request{verb: "update", res: res, userAgent: "bench/1"}
	old = fm.trackUpdate(rq, nil, old)
	for b.Loop() {
		obj := old.DeepCopyObject().(object)
		obj.SetLabels(map[string]string{"app": "web", "n": "1"})
		_ = fm.trackUpdate(rq, old, obj)
	}
}
