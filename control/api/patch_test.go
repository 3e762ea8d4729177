package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	smp       = "Content-Type: application/strategic-merge-patch+json"
	jsonPatch = "Content-Type: application/json-patch+json"
	applyYAML = "Content-Type: application/apply-patch+yaml"
)

// twoContainers is a Deployment whose containers both have ports and env:
// what a strategic merge patch must keep when it changes one image.
const twoContainers = `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":1,
"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[
{"name":"web","image":"nginx:1","ports":[{"containerPort":80,"name":"http"}],"env":[{"name":"A","value":"1"}]},
{"name":"side","image":"busybox:1","ports":[{"containerPort":9090}],"env":[{"name":"B","value":"2"}]}]}}}}`

func getDeploy(t *testing.T, e *env, name string) appsv1.Deployment {
	t.Helper()
	var d appsv1.Deployment
	e.req("GET", deployPath+"/"+name, nil).must(t, 200).into(t, &d)
	return d
}

func TestStrategicMergePatchDeployment(t *testing.T) {
	e := newEnv(t)
	e.req("POST", deployPath+"?fieldManager=creator", twoContainers).must(t, 201)

	// what `kubectl set image deployment/web web=nginx:2` sends
	setImage := `{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"web"},{"name":"side"}],"containers":[{"image":"nginx:2","name":"web"}]}}}}`
	e.req("PATCH", deployPath+"/web?fieldManager=kubectl-set", setImage, smp).must(t, 200)
	d := getDeploy(t, e, "web")
	cs := d.Spec.Template.Spec.Containers
	if len(cs) != 2 || cs[0].Name != "web" || cs[0].Image != "nginx:2" || cs[1].Image != "busybox:1" {
		t.Fatalf("containers after set image: %+v", cs)
	}
	if len(cs[0].Ports) != 1 || cs[0].Ports[0].ContainerPort != 80 || len(cs[0].Env) != 1 || cs[0].Env[0].Value != "1" ||
		len(cs[1].Ports) != 1 || len(cs[1].Env) != 1 || cs[1].Env[0].Name != "B" {
		t.Fatalf("set image lost ports or env: %+v", cs)
	}
	if d.Generation != 2 {
		t.Fatalf("generation %d after an image change, want 2", d.Generation)
	}
	// managedFields: the creator's Update, and kubectl-set owning the image
	set := managedEntry(t, d.ManagedFields, "kubectl-set", "")
	if set.Operation != metav1.ManagedFieldsOperationUpdate || !strings.Contains(string(set.FieldsV1.Raw), `"k:{\"name\":\"web\"}":{"f:image":{}}`) {
		t.Fatalf("kubectl-set entry %+v %s", set, set.FieldsV1.Raw)
	}
	if c := managedEntry(t, d.ManagedFields, "creator", ""); !strings.Contains(string(c.FieldsV1.Raw), `"f:env"`) {
		t.Fatalf("creator entry %s", c.FieldsV1.Raw)
	}

	// $patch: delete removes one container by its merge key
	e.req("PATCH", deployPath+"/web", `{"spec":{"template":{"spec":{"containers":[{"name":"side","$patch":"delete"}]}}}}`, smp).must(t, 200)
	if cs := getDeploy(t, e, "web").Spec.Template.Spec.Containers; len(cs) != 1 || cs[0].Name != "web" || len(cs[0].Ports) != 1 {
		t.Fatalf("after $patch: delete: %+v", cs)
	}
	// a new container is added, not replacing the list
	e.req("PATCH", deployPath+"/web", `{"spec":{"template":{"spec":{"containers":[{"name":"log","image":"busybox:2"}]}}}}`, smp).must(t, 200)
	if cs := getDeploy(t, e, "web").Spec.Template.Spec.Containers; len(cs) != 2 || cs[0].Name != "log" && cs[1].Name != "log" {
		t.Fatalf("after adding a container: %+v", cs)
	}
	// $retainKeys: switching to Recreate drops rollingUpdate (a merge patch would keep it, and fail validation)
	e.req("PATCH", deployPath+"/web", `{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}`, smp).must(t, 200)
	if s := getDeploy(t, e, "web").Spec.Strategy; s.Type != appsv1.RecreateDeploymentStrategyType || s.RollingUpdate != nil {
		t.Fatalf("after $retainKeys: %+v", s)
	}
	// $deleteFromPrimitiveList on finalizers (a merged list of strings)
	e.req("PATCH", deployPath+"/web", `{"metadata":{"finalizers":["example.com/a","example.com/b"]}}`, smp).must(t, 200)
	e.req("PATCH", deployPath+"/web", `{"metadata":{"finalizers":["example.com/c"]}}`, smp).must(t, 200)
	e.req("PATCH", deployPath+"/web", `{"metadata":{"$deleteFromPrimitiveList/finalizers":["example.com/a","example.com/c"]}}`, smp).must(t, 200)
	if f := getDeploy(t, e, "web").Finalizers; len(f) != 1 || f[0] != "example.com/b" {
		t.Fatalf("finalizers %v, want [example.com/b]", f)
	}
	e.req("PATCH", deployPath+"/web", `{"metadata":{"finalizers":null}}`, smp).must(t, 200)

	// malformed patches: 400 as kube-apiserver
	e.req("PATCH", deployPath+"/web", `{"spec":{"$patch":"bogus"}}`, smp).status(t, 400, "BadRequest")
	e.req("PATCH", deployPath+"/web", `[1,2]`, smp).status(t, 400, "BadRequest")
	// a patched object that does not fit the type: 422 naming the patch
	if st := e.req("PATCH", deployPath+"/web", `{"spec":{"replicas":"many"}}`, smp).status(t, 422, "Invalid"); st.Details == nil ||
		len(st.Details.Causes) != 1 || st.Details.Causes[0].Field != "patch" {
		t.Fatalf("ill-typed patch: %+v", st)
	}
	// a patch that leaves the object invalid: 422
	e.req("PATCH", deployPath+"/web", `{"spec":{"template":{"spec":{"containers":[{"name":"log","image":""}]}}}}`, smp).status(t, 422, "Invalid")
}

func TestJSONPatch(t *testing.T) {
	e := newEnv(t)
	c := e.req("POST", cmPath, `{"metadata":{"name":"j","labels":{"a":"1"}},"data":{"k":"v","gone":"x"}}`).must(t, 201).obj(t)
	ops := `[{"op":"test","path":"/data/k","value":"v"},{"op":"replace","path":"/data/k","value":"w"},
{"op":"add","path":"/data/new","value":"n"},{"op":"remove","path":"/data/gone"},{"op":"add","path":"/metadata/labels/b","value":"2"},
{"op":"copy","from":"/data/new","path":"/data/copied"},{"op":"move","from":"/data/copied","path":"/data/moved"}]`
	got := e.req("PATCH", cmPath+"/j", ops, jsonPatch).must(t, 200).obj(t)
	want := map[string]any{"k": "w", "new": "n", "moved": "n"}
	if mustMarshal(t, got["data"]) != mustMarshal(t, want) || str(got, "metadata", "labels", "b") != "2" || str(got, "metadata", "labels", "a") != "1" {
		t.Fatalf("after JSON patch: data %v labels %v", got["data"], path(got, "metadata", "labels"))
	}
	// a failing test op: 422 and nothing written
	rv := str(got, "metadata", "resourceVersion")
	st := e.req("PATCH", cmPath+"/j", `[{"op":"test","path":"/data/k","value":"v"},{"op":"remove","path":"/data/k"}]`, jsonPatch).status(t, 422, "Invalid")
	if st.Message != "the server rejected our request due to an error in our request" { // kube-apiserver's words
		t.Fatalf("failed test op message %q", st.Message)
	}
	e.req("PATCH", cmPath+"/j", `[{"op":"remove","path":"/data/absent"}]`, jsonPatch).status(t, 422, "Invalid")
	if after := e.req("GET", cmPath+"/j", nil).must(t, 200).obj(t); str(after, "metadata", "resourceVersion") != rv {
		t.Fatal("a failed JSON patch wrote the object")
	}
	e.req("PATCH", cmPath+"/j", `[{"op":"replace","path":"/data","value":"not a map"}]`, jsonPatch).status(t, 422, "Invalid")
	e.req("PATCH", cmPath+"/j", `[{"op":"replace","path":""}]`, jsonPatch).status(t, 422, "Invalid") // panics in json-patch v4
	// malformed: 400
	e.req("PATCH", cmPath+"/j", `{"op":"add"}`, jsonPatch).status(t, 400, "BadRequest")
	e.req("PATCH", cmPath+"/j", `[{"op":"add"`, jsonPatch).status(t, 400, "BadRequest")
	e.req("PATCH", cmPath+"/j", `[{"op":"frobnicate","path":"/data/k"}]`, jsonPatch).status(t, 422, "Invalid")
	// too many operations: 413
	many := "[" + strings.Repeat(`{"op":"test","path":"/data/k","value":"w"},`, 10000) + `{"op":"test","path":"/data/k","value":"w"}]`
	e.req("PATCH", cmPath+"/j", many, jsonPatch).status(t, 413, "RequestEntityTooLarge")
	// resourceVersion replaced by the patch is a precondition
	stale := `[{"op":"replace","path":"/metadata/resourceVersion","value":"` + str(c, "metadata", "resourceVersion") + `"},{"op":"replace","path":"/data/k","value":"z"}]`
	e.req("PATCH", cmPath+"/j", stale, jsonPatch).status(t, 409, "Conflict")
	// the default manager is the user agent's product
	var cm corev1.ConfigMap
	e.req("GET", cmPath+"/j", nil).must(t, 200).into(t, &cm)
	if m := managedEntry(t, cm.ManagedFields, "Go-http-client", ""); !strings.Contains(string(m.FieldsV1.Raw), `"f:moved"`) {
		t.Fatalf("Go-http-client entry %s", m.FieldsV1.Raw)
	}
	// unsupported types and options, as kube-apiserver
	e.req("PATCH", cmPath+"/j", `{}`, "Content-Type: application/json").status(t, 415, "UnsupportedMediaType")
	e.req("PATCH", cmPath+"/j?force=true", `{}`, mergePatch).status(t, 422, "Invalid")
}

func TestServerSideApply(t *testing.T) {
	e := newEnv(t)
	cm := func(v string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\n  labels:\n    app: x\ndata:\n  k: " + v + "\n"
	}
	// apply creates the object, owned by its manager
	var got corev1.ConfigMap
	e.req("PATCH", cmPath+"/ssa?fieldManager=alice", cm("one"), applyYAML).must(t, 201).into(t, &got)
	if got.Data["k"] != "one" || got.UID == "" {
		t.Fatalf("apply create: %+v", got)
	}
	a := managedEntry(t, got.ManagedFields, "alice", "")
	if a.Operation != metav1.ManagedFieldsOperationApply || !strings.Contains(string(a.FieldsV1.Raw), `"f:k"`) {
		t.Fatalf("alice entry %+v %s", a, a.FieldsV1.Raw)
	}
	// the same manager changes its field
	e.req("PATCH", cmPath+"/ssa?fieldManager=alice", cm("two"), applyYAML).must(t, 200).into(t, &got)
	if got.Data["k"] != "two" {
		t.Fatalf("re-apply: %v", got.Data)
	}
	// the same configuration again is a no-op: no new revision
	var again corev1.ConfigMap
	e.req("PATCH", cmPath+"/ssa?fieldManager=alice", cm("two"), applyYAML).must(t, 200).into(t, &again)
	if again.ResourceVersion != got.ResourceVersion {
		t.Fatalf("a no-op apply wrote revision %s (was %s)", again.ResourceVersion, got.ResourceVersion)
	}
	// another manager applying a different value: 409 naming alice and the field
	st := e.req("PATCH", cmPath+"/ssa?fieldManager=bob", cm("three"), applyYAML).status(t, 409, "Conflict")
	if !strings.Contains(st.Message, `conflict with "alice"`) || st.Details == nil || len(st.Details.Causes) != 1 ||
		st.Details.Causes[0].Type != metav1.CauseTypeFieldManagerConflict || st.Details.Causes[0].Field != ".data.k" {
		t.Fatalf("conflict Status %+v", st)
	}
	// the same value is shared, not a conflict
	e.req("PATCH", cmPath+"/ssa?fieldManager=carol", cm("two"), applyYAML).must(t, 200)
	// force takes the field over
	e.req("PATCH", cmPath+"/ssa?fieldManager=bob&force=true", cm("three"), applyYAML).must(t, 200).into(t, &got)
	if got.Data["k"] != "three" {
		t.Fatalf("forced apply: %v", got.Data)
	}
	if b := managedEntry(t, got.ManagedFields, "bob", ""); !strings.Contains(string(b.FieldsV1.Raw), `"f:k"`) {
		t.Fatalf("bob entry %s", b.FieldsV1.Raw)
	}
	if a := managedEntry(t, got.ManagedFields, "alice", ""); strings.Contains(string(a.FieldsV1.Raw), `"f:k"`) {
		t.Fatalf("alice still owns data.k after bob forced it: %s", a.FieldsV1.Raw)
	}
	// a field alice alone applied is removed when she stops applying it;
	// the label bob and carol also apply stays
	e.req("PATCH", cmPath+"/ssa?fieldManager=alice", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\n  labels:\n    app: x\ndata:\n  extra: e\n", applyYAML).must(t, 200)
	e.req("PATCH", cmPath+"/ssa?fieldManager=alice", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\n", applyYAML).must(t, 200).into(t, &got)
	if got.Labels["app"] != "x" || got.Data["k"] != "three" || got.Data["extra"] != "" {
		t.Fatalf("after alice dropped her fields: labels %v data %v", got.Labels, got.Data)
	}
	// an Update by another manager conflicts with an applier too
	e.req("PATCH", cmPath+"/ssa?fieldManager=dave", `{"data":{"k":"four"}}`, mergePatch).must(t, 200)
	e.req("PATCH", cmPath+"/ssa?fieldManager=bob", cm("three"), applyYAML).status(t, 409, "Conflict")

	// options and bodies, as kube-apiserver
	st = e.req("PATCH", cmPath+"/ssa", cm("x"), applyYAML).status(t, 422, "Invalid")
	if !strings.Contains(st.Message, "fieldManager: Required value") {
		t.Fatalf("missing fieldManager: %q", st.Message)
	}
	e.req("PATCH", cmPath+"/ssa?fieldManager=a&force=maybe", cm("x"), applyYAML).status(t, 400, "BadRequest")
	e.req("PATCH", cmPath+"/ssa?fieldManager=a", "a: [", applyYAML).status(t, 400, "BadRequest")
	e.req("PATCH", cmPath+"/ssa?fieldManager=a", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: ssa\n", applyYAML).status(t, 400, "BadRequest")
	e.req("PATCH", cmPath+"/ssa?fieldManager=a", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n", applyYAML).status(t, 400, "BadRequest")
	e.req("PATCH", cmPath+"/ssa?fieldManager=a", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\nbogus: 1\n", applyYAML).status(t, 400, "BadRequest")
	e.req("PATCH", cmPath+"/ssa?fieldManager="+strings.Repeat("m", 129), cm("x"), applyYAML).status(t, 422, "Invalid")
	// a dry-run apply creates nothing
	e.req("PATCH", cmPath+"/dry?fieldManager=a&dryRun=All", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dry\n", applyYAML).must(t, 201)
	e.req("GET", cmPath+"/dry", nil).status(t, 404, "NotFound")
	// apply to a missing namespace: 404
	e.req("PATCH", "/api/v1/namespaces/nope/configmaps/x?fieldManager=a", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n", applyYAML).status(t, 404, "NotFound")
}

// TestApplyDeploymentAndSubresources applies a Deployment (the schema's
// list-map keys: containers by name, ports by containerPort and protocol)
// and checks the managedFields entries of the status and scale
// subresources.
func TestApplyDeploymentAndSubresources(t *testing.T) {
	e := newEnv(t)
	dep := func(image string, replicas int) string {
		return `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":` + itoa(replicas) + `,
"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[
{"name":"web","image":"` + image + `","ports":[{"containerPort":80}]}]}}}}`
	}
	e.req("PATCH", deployPath+"/web?fieldManager=ci", dep("nginx:1", 2), applyYAML).must(t, 201)
	// another manager's strategic patch adds a sidecar: the applier's next apply keeps it
	e.req("PATCH", deployPath+"/web?fieldManager=injector", `{"spec":{"template":{"spec":{"containers":[{"name":"side","image":"busybox"}]}}}}`, smp).must(t, 200)
	e.req("PATCH", deployPath+"/web?fieldManager=ci", dep("nginx:2", 2), applyYAML).must(t, 200)
	d := getDeploy(t, e, "web")
	if web, side := container(d, "web"), container(d, "side"); len(d.Spec.Template.Spec.Containers) != 2 || web == nil || side == nil ||
		web.Image != "nginx:2" || len(web.Ports) != 1 || side.Image != "busybox" {
		t.Fatalf("containers after the second apply: %+v", d.Spec.Template.Spec.Containers)
	}
	// scale records an Update with subresource scale on spec.replicas
	e.req("PATCH", deployPath+"/web/scale?fieldManager=hpa", `{"spec":{"replicas":5}}`, mergePatch).must(t, 200)
	e.req("PATCH", deployPath+"/web/scale?fieldManager=hpa", `[{"op":"replace","path":"/spec/replicas","value":6}]`, jsonPatch).must(t, 200)
	d = getDeploy(t, e, "web")
	sc := managedEntry(t, d.ManagedFields, "hpa", "scale")
	if *d.Spec.Replicas != 6 || !strings.Contains(string(sc.FieldsV1.Raw), `"f:replicas"`) || sc.APIVersion != "apps/v1" {
		t.Fatalf("scale entry %+v %s, replicas %d", sc, sc.FieldsV1.Raw, *d.Spec.Replicas)
	}
	// ci's replicas now conflict with hpa's
	st := e.req("PATCH", deployPath+"/web?fieldManager=ci", dep("nginx:2", 2), applyYAML).status(t, 409, "Conflict")
	if !strings.Contains(st.Message, `conflict with "hpa" with subresource "scale" using apps/v1: .spec.replicas`) {
		t.Fatalf("conflict message %q", st.Message)
	}
	// status writes record an Update with subresource status
	d.Status = appsv1.DeploymentStatus{Replicas: 6, ObservedGeneration: d.Generation}
	e.req("PUT", deployPath+"/web/status?fieldManager=controller", d).must(t, 200)
	d = getDeploy(t, e, "web")
	if s := managedEntry(t, d.ManagedFields, "controller", "status"); !strings.Contains(string(s.FieldsV1.Raw), `"f:status"`) {
		t.Fatalf("status entry %s", s.FieldsV1.Raw)
	}
	// apply to status is tracked as the status subresource and changes only status
	e.req("PATCH", deployPath+"/web/status?fieldManager=ctl", `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":1},"status":{"readyReplicas":3}}`, applyYAML).must(t, 200)
	d = getDeploy(t, e, "web")
	if d.Status.ReadyReplicas != 3 || *d.Spec.Replicas != 6 {
		t.Fatalf("status apply: ready %d replicas %d", d.Status.ReadyReplicas, *d.Spec.Replicas)
	}
	if s := managedEntry(t, d.ManagedFields, "ctl", "status"); s.Operation != metav1.ManagedFieldsOperationApply || strings.Contains(string(s.FieldsV1.Raw), "f:spec") {
		t.Fatalf("status apply entry %+v %s", s, s.FieldsV1.Raw)
	}
	// apply to scale: a Scale configuration, conflicting with hpa's replicas until forced;
	// the entry lands on the Deployment in its own terms
	scale := func(n int) string {
		return `{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"web"},"spec":{"replicas":` + itoa(n) + `}}`
	}
	st = e.req("PATCH", deployPath+"/web/scale?fieldManager=auto", scale(4), applyYAML).status(t, 409, "Conflict")
	if !strings.Contains(st.Message, `conflict with "hpa"`) {
		t.Fatalf("scale apply conflict %q", st.Message)
	}
	var got struct {
		Kind string `json:"kind"`
		Spec struct {
			Replicas int `json:"replicas"`
		} `json:"spec"`
	}
	e.req("PATCH", deployPath+"/web/scale?fieldManager=auto&force=true", scale(4), applyYAML).must(t, 200).into(t, &got)
	d = getDeploy(t, e, "web")
	if got.Kind != "Scale" || got.Spec.Replicas != 4 || *d.Spec.Replicas != 4 {
		t.Fatalf("scale apply answered %+v, replicas %d", got, *d.Spec.Replicas)
	}
	// (no time: apimachinery's ScaleHandler gives a manager new to the parent none, as in kube-apiserver)
	if a := findEntry(d.ManagedFields, "auto", "scale"); a.Operation != metav1.ManagedFieldsOperationApply || a.APIVersion != "apps/v1" ||
		!strings.Contains(string(a.FieldsV1.Raw), `"f:replicas"`) {
		t.Fatalf("scale apply entry %+v %s", a, a.FieldsV1.Raw)
	}
	for _, m := range d.ManagedFields {
		if m.Manager == "hpa" {
			t.Fatalf("hpa still has an entry after losing its only field: %+v", m)
		}
	}
	e.req("PATCH", deployPath+"/web/scale?fieldManager=auto", `{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"other"},"spec":{"replicas":1}}`, applyYAML).status(t, 400, "BadRequest")
	e.req("PATCH", deployPath+"/web/scale?fieldManager=auto", `{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"web"},"spec":{"replicas":-1}}`, applyYAML).status(t, 422, "Invalid")
}

func container(d appsv1.Deployment, name string) *corev1.Container {
	for i, c := range d.Spec.Template.Spec.Containers {
		if c.Name == name {
			return &d.Spec.Template.Spec.Containers[i]
		}
	}
	return nil
}

func findEntry(entries []metav1.ManagedFieldsEntry, manager, sub string) metav1.ManagedFieldsEntry {
	for _, m := range entries {
		if m.Manager == manager && m.Subresource == sub && m.FieldsV1 != nil {
			return m
		}
	}
	return metav1.ManagedFieldsEntry{FieldsV1: &metav1.FieldsV1{}}
}

func managedEntry(t *testing.T, entries []metav1.ManagedFieldsEntry, manager, sub string) metav1.ManagedFieldsEntry {
	t.Helper()
	for _, m := range entries {
		if m.Manager == manager && m.Subresource == sub {
			if m.FieldsV1 == nil || m.Time == nil {
				t.Fatalf("managedFields entry of %s without fields or time: %+v", manager, m)
			}
			return m
		}
	}
	t.Fatalf("no managedFields entry of %q (subresource %q) in %+v", manager, sub, entries)
	return metav1.ManagedFieldsEntry{}
}

func mustMarshal(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
