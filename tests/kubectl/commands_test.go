package kubectl

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
)

// webYAML is a Deployment of the test server with ports, env and a
// readiness probe (what `set image` must keep).
const webYAML = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: kc
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: web
        image: weir/testimage:1
        imagePullPolicy: Never
        args: ["-udp-echo="]
        ports:
        - {name: http, containerPort: 8080}
        env:
        - {name: GREETING, value: hello}
        readinessProbe:
          httpGet: {path: /healthz, port: http}
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: kc
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http}
`

func testDiscovery(t *testing.T, e *env) {
	out := e.ok(t, "version")
	contains(t, "version", out, "Client Version: v1.", "Server Version: v1.", "+weir")
	out = e.ok(t, "cluster-info")
	contains(t, "cluster-info", out, "Kubernetes control plane is running at https://"+e.cfg.Listen)

	out = e.ok(t, "api-resources")
	want := map[string][]string{ // NAME: SHORTNAMES APIVERSION NAMESPACED KIND
		"pods":        {"po", "v1", "true", "Pod"},
		"nodes":       {"no", "v1", "false", "Node"},
		"services":    {"svc", "v1", "true", "Service"},
		"namespaces":  {"ns", "v1", "false", "Namespace"},
		"configmaps":  {"cm", "v1", "true", "ConfigMap"},
		"deployments": {"deploy", "apps/v1", "true", "Deployment"},
		"replicasets": {"rs", "apps/v1", "true", "ReplicaSet"},
		"jobs":        {"batch/v1", "true", "Job"},
		"daemonsets":  {"ds", "apps/v1", "true", "DaemonSet"},
		"cronjobs":    {"cj", "batch/v1", "true", "CronJob"},
	}
	got := map[string][]string{}
	for _, r := range rows(out) {
		got[r[0]] = r[1:]
	}
	for name, w := range want {
		if strings.Join(got[name], " ") != strings.Join(w, " ") {
			t.Errorf("api-resources: %s is %q, want %q", name, got[name], w)
		}
	}
	out = e.ok(t, "api-versions")
	for _, v := range []string{"v1", "apps/v1", "batch/v1", "discovery.k8s.io/v1", "authorization.k8s.io/v1"} {
		if !hasLine(out, v) {
			t.Errorf("api-versions lacks %s:\n%s", v, out)
		}
	}
	if out := e.ok(t, "get", "--raw", "/readyz"); out != "ok" {
		t.Errorf("get --raw /readyz: %q, want ok", out)
	}
	out = e.ok(t, "explain", "pod.spec.containers")
	contains(t, "explain", out, "KIND:       Pod", "FIELD: containers <[]Container>", "FIELDS:", "image\t<string>", "readinessProbe\t<Probe>")
}

func hasLine(out, line string) bool {
	for _, l := range strings.Split(out, "\n") {
		if strings.TrimSpace(l) == line {
			return true
		}
	}
	return false
}

func testCreate(t *testing.T, e *env) {
	contains(t, "create namespace", e.ok(t, "create", "namespace", ns), "namespace/kc created")
	contains(t, "create configmap", e.ok(t, "-n", ns, "create", "configmap", "cm1", "--from-literal=a=b", "--from-literal=c=d"), "configmap/cm1 created")
	contains(t, "create secret", e.ok(t, "-n", ns, "create", "secret", "generic", "s1", "--from-literal=pw=s3cret"), "secret/s1 created")
	contains(t, "create deployment", e.ok(t, "-n", ns, "create", "deployment", "hello", "--image=weir/testimage:1", "--replicas=2", "--port=8080"), "deployment.apps/hello created")
	contains(t, "create service", e.ok(t, "-n", ns, "create", "service", "clusterip", "hello", "--tcp=80:8080"), "service/hello created")
	contains(t, "create job", e.ok(t, "-n", ns, "create", "job", "once", "--image=weir/testimage:1", "--", "sh", "-c", "echo job-done"), "job.batch/once created")

	// --dry-run=server: the server's answer, nothing stored.
	out := e.ok(t, "-n", ns, "create", "configmap", "dry", "--from-literal=a=b", "--dry-run=server", "-o", "yaml")
	contains(t, "create --dry-run=server", out, "name: dry", "uid:")
	res := e.run(t, call{fail: true, allow: []string{"GET 404"}}, "-n", ns, "get", "configmap", "dry")
	contains(t, "get after a dry run", res.stderr, `configmaps "dry" not found`)
	if got := e.ok(t, "-n", ns, "get", "cm", "cm1", "-o", "jsonpath={.data.a}{.data.c}"); got != "bd" {
		t.Errorf("configmap data: %q, want bd", got)
	}
	b64 := e.ok(t, "-n", ns, "get", "secret", "s1", "-o", "jsonpath={.data.pw}")
	if pw, err := base64.StdEncoding.DecodeString(b64); err != nil || string(pw) != "s3cret" {
		t.Errorf("secret data pw: %q (%v), want base64 of s3cret", b64, err)
	}
	if got := e.ok(t, "-n", ns, "get", "svc", "hello", "-o", "jsonpath={.spec.type} {.spec.ports[0].port} {.spec.ports[0].targetPort} {.spec.selector.app}"); got != "ClusterIP 80 8080 hello" {
		t.Errorf("service hello: %q, want ClusterIP 80 8080 hello", got)
	}
	contains(t, "wait job", e.run(t, call{timeout: 60 * time.Second}, "-n", ns, "wait", "--for=condition=complete", "job/once", "--timeout=50s").stdout, "job.batch/once condition met")
	contains(t, "wait deployment", e.run(t, call{timeout: 60 * time.Second}, "-n", ns, "wait", "--for=condition=Available", "deployment/hello", "--timeout=50s").stdout, "deployment.apps/hello condition met")
	out = e.ok(t, "-n", ns, "get", "job", "once", "-o", "wide")
	if r := rows(out); len(r) != 1 || r[0][1] != "Complete" || r[0][2] != "1/1" {
		t.Errorf("get job -o wide: want once Complete 1/1:\n%s", out)
	}
}

func testApply(t *testing.T, e *env) {
	web := e.write(t, "web.yaml", webYAML)
	// A new object: kubectl's GET before the create is a 404.
	out := e.run(t, call{allow: []string{"GET 404"}}, "apply", "-f", web).stdout
	contains(t, "apply", out, "deployment.apps/web created", "service/web created")
	out = e.ok(t, "apply", "-f", web)
	contains(t, "apply again", out, "deployment.apps/web unchanged", "service/web unchanged")
	// diff sends the resourceVersion it read: wait until the controller
	// stops writing the Deployment's status (kube would 409 as well).
	e.rolledOut(t, "web")

	// kubectl diff: exit 1 with the change, exit 0 without one.
	changed := e.write(t, "web-changed.yaml", strings.Replace(webYAML, "replicas: 2", "replicas: 4", 1))
	res := e.run(t, call{fail: true}, "diff", "-f", changed)
	if res.code != 1 {
		t.Errorf("diff with a change: exit %d, want 1", res.code)
	}
	contains(t, "diff", res.stdout, "-  replicas: 2", "+  replicas: 4")
	if res := e.run(t, call{}, "diff", "-f", web); res.stdout != "" {
		t.Errorf("diff without a change printed:\n%s", res.stdout)
	}

	// An unknown field is refused by the server's strict field validation.
	bad := e.write(t, "bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\n  namespace: kc\nbogus: 1\ndata:\n  a: \"1\"\n")
	res = e.run(t, call{fail: true, allow: []string{"GET 404", "POST 400"}}, "apply", "-f", bad)
	contains(t, "apply unknown field", res.stderr, `strict decoding error: unknown field "bogus"`)

	// Server-side apply: two managers, a conflict, then a forced apply.
	ssa := func(v string) string {
		return e.write(t, "ssa-"+v+".yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\n  namespace: kc\ndata:\n  owner: \""+v+"\"\n")
	}
	contains(t, "apply --server-side", e.ok(t, "apply", "--server-side", "--field-manager=alice", "-f", ssa("alice")), "configmap/ssa serverside-applied")
	res = e.run(t, call{fail: true, allow: []string{"PATCH 409"}}, "apply", "--server-side", "--field-manager=bob", "-f", ssa("bob"))
	contains(t, "apply --server-side conflict", res.stderr, "Apply failed with 1 conflict", `conflict with "alice"`, ".data.owner")
	contains(t, "apply --server-side --force-conflicts", e.ok(t, "apply", "--server-side", "--field-manager=bob", "--force-conflicts", "-f", ssa("bob")), "configmap/ssa serverside-applied")
	var cm struct {
		Metadata struct {
			ManagedFields []struct {
				Manager, Operation string
				FieldsV1           map[string]any
			}
		}
		Data map[string]string
	}
	if err := json.Unmarshal([]byte(e.ok(t, "-n", ns, "get", "cm", "ssa", "-o", "json", "--show-managed-fields")), &cm); err != nil {
		t.Fatal(err)
	}
	if cm.Data["owner"] != "bob" {
		t.Errorf("after the forced apply data.owner = %q, want bob", cm.Data["owner"])
	}
	owners := map[string]bool{}
	for _, m := range cm.Metadata.ManagedFields {
		if data, ok := m.FieldsV1["f:data"].(map[string]any); ok && data["f:owner"] != nil {
			owners[m.Manager+"/"+m.Operation] = true
		}
	}
	if len(owners) != 1 || !owners["bob/Apply"] {
		t.Errorf("data.owner is managed by %v, want only bob/Apply", owners)
	}
}

func testGet(t *testing.T, e *env) {
	kinds := strings.Fields(e.ok(t, "api-resources", "--verbs=list", "-o", "name"))
	if len(kinds) < 10 {
		t.Errorf("api-resources --verbs=list -o name: only %v", kinds)
	}
	for _, k := range kinds {
		out := e.ok(t, "get", k, "-A")
		if out == "" {
			continue // "No resources found" is on stderr
		}
		if h := strings.Fields(strings.SplitN(out, "\n", 2)[0]); len(h) < 2 || h[0] != "NAMESPACE" && h[0] != "NAME" {
			t.Errorf("get %s -A: no table header:\n%s", k, out)
		}
	}
	for _, k := range []string{"nodes", "namespaces", "pods", "services", "deployments.apps", "replicasets.apps", "endpointslices.discovery.k8s.io", "events", "jobs.batch", "configmaps"} {
		if len(rows(e.ok(t, "get", k, "-A"))) == 0 {
			t.Errorf("get %s -A: no rows", k)
		}
	}

	out := e.ok(t, "get", "nodes", "-o", "wide")
	contains(t, "get nodes -o wide", out, "INTERNAL-IP", "KERNEL-VERSION", e.nodes[0], e.nodes[1])
	out = e.ok(t, "-n", ns, "get", "pods", "-l", "app=web", "-o", "wide")
	contains(t, "get pods -o wide", out, "IP", "NODE", "NOMINATED NODE", "READINESS GATES")
	r := rows(out)
	if len(r) != 2 {
		t.Errorf("get pods -l app=web: %d rows, want 2:\n%s", len(r), out)
	}
	for _, row := range r {
		if !strings.HasPrefix(row[0], "web-") || row[1] != "1/1" || row[2] != "Running" {
			t.Errorf("get pods -l app=web: row %v, want web-* 1/1 Running", row)
		}
	}
	out = e.ok(t, "-n", ns, "get", "deployment", "web", "-o", "yaml")
	contains(t, "get -o yaml", out, "kind: Deployment", "name: web", "containerPort: 8080", "readyReplicas: 2")
	var list struct {
		Kind  string
		Items []struct {
			Kind     string
			Metadata struct{ Name string }
		}
	}
	if err := json.Unmarshal([]byte(e.ok(t, "-n", ns, "get", "pods", "-o", "json")), &list); err != nil {
		t.Errorf("get pods -o json: %v", err)
	} else if list.Kind != "List" || len(list.Items) < 4 || list.Items[0].Kind != "Pod" {
		t.Errorf("get pods -o json: kind %q, %d items, want a List of >= 4 Pods", list.Kind, len(list.Items))
	}
	names := strings.Fields(e.ok(t, "-n", ns, "get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].metadata.name}"))
	if len(names) != 2 {
		t.Errorf("jsonpath names: %v, want 2 web pods", names)
	}
	out = e.ok(t, "-n", ns, "get", "pods", "-l", "app=web", "-o", "custom-columns=NAME:.metadata.name,NODE:.spec.nodeName,PORT:.spec.containers[0].ports[0].containerPort")
	for _, row := range rows(out) {
		if len(row) != 3 || row[2] != "8080" || (row[1] != e.nodes[0] && row[1] != e.nodes[1]) {
			t.Errorf("custom-columns: row %v, want NAME NODE 8080", row)
		}
	}
	// Field selectors: pods on node 1 only; a Deployment by name.
	out = e.ok(t, "get", "pods", "-A", "--field-selector", "spec.nodeName="+e.nodes[0], "-o", "custom-columns=NAME:.metadata.name,NODE:.spec.nodeName")
	if len(rows(out)) == 0 {
		t.Errorf("--field-selector spec.nodeName: no pods")
	}
	for _, row := range rows(out) {
		if row[1] != e.nodes[0] {
			t.Errorf("--field-selector spec.nodeName=%s: got %v", e.nodes[0], row)
		}
	}
	out = e.ok(t, "-n", ns, "get", "deployments", "--field-selector", "metadata.name=web", "-o", "name")
	if strings.TrimSpace(out) != "deployment.apps/web" {
		t.Errorf("--field-selector metadata.name=web: %q", out)
	}
	// -A: pods of default (the demo) and kc.
	out = e.ok(t, "get", "pods", "-A")
	seen := map[string]bool{}
	for _, row := range rows(out) {
		seen[row[0]] = true
	}
	if !seen["default"] || !seen[ns] {
		t.Errorf("get pods -A: namespaces %v, want default and kc", seen)
	}
	// --chunk-size=2: the same rows, fetched in pages of 2.
	res := e.run(t, call{}, "get", "pods", "-A", "--chunk-size=2")
	if len(rows(res.stdout)) != len(rows(out)) {
		t.Errorf("--chunk-size=2: %d rows, without it %d", len(rows(res.stdout)), len(rows(out)))
	}
	var pages, cont int
	for _, r := range res.reqs {
		if strings.Contains(r.url, "limit=2") {
			pages++
		}
		if strings.Contains(r.url, "continue=") {
			cont++
		}
	}
	if pages < 3 || cont < 2 {
		t.Errorf("--chunk-size=2 over %d pods: %d pages, %d with continue", len(rows(out)), pages, cont)
	}

	// -w: the watch sees a ConfigMap created after it started, in the
	// same table (NAME DATA AGE).
	w := e.start(t, 30*time.Second, "-n", ns, "get", "configmaps", "-w")
	w.waitLine(t, 10*time.Second, "the table header", func(l string) bool { return strings.HasPrefix(l, "NAME") })
	w.waitLine(t, 10*time.Second, "the row of cm1", func(l string) bool { return strings.HasPrefix(l, "cm1 ") })
	e.ok(t, "-n", ns, "create", "configmap", "watched", "--from-literal=x=y")
	if l, ok := w.waitLine(t, 10*time.Second, "the row of configmap watched", func(l string) bool { return strings.HasPrefix(l, "watched ") }); ok {
		if f := strings.Fields(l); len(f) != 3 || f[1] != "1" {
			t.Errorf("get -w row %q, want NAME DATA AGE (watched 1 ...)", l)
		}
	}
	res = w.stop(t)
	if n := strings.Count(res.stdout, "NAME"); n != 1 {
		t.Errorf("get -w printed %d headers, want 1 (the watch's rows are Tables with the list's columns):\n%s", n, res.stdout)
	}
}

func testDescribe(t *testing.T, e *env) {
	pod := strings.TrimPrefix(strings.Fields(e.ok(t, "-n", ns, "get", "pods", "-l", "app=web", "-o", "name"))[0], "pod/")
	out := e.ok(t, "-n", ns, "describe", "pod", pod)
	contains(t, "describe pod", out, "Name:             "+pod, "Namespace:        kc", "Node:", "Status:           Running",
		"Controlled By:  ReplicaSet/web-", "Image:         weir/testimage:1", "Port:          8080/TCP", "GREETING:  hello",
		"Readiness:", "Ready             True", "Events:", "Scheduled", "Started")
	out = e.ok(t, "-n", ns, "describe", "deployment", "web")
	contains(t, "describe deployment", out, "Name:                   web", "Replicas:               2 desired | 2 updated | 2 total | 2 available",
		"StrategyType:           RollingUpdate", "NewReplicaSet:", "ScalingReplicaSet")
	out = e.ok(t, "-n", ns, "describe", "service", "web")
	contains(t, "describe service", out, "Name:                     web", "Selector:                 app=web", "TargetPort:               http/TCP", "Endpoints:", ":8080")
	// kubectl describe node reads the node's Lease; weir serves no
	// coordination.k8s.io (docs/kubectl.md), so that GET is a 404.
	out = e.run(t, call{allow: []string{"GET 404"}}, "describe", "node", e.nodes[0]).stdout
	contains(t, "describe node", out, "Name:               "+e.nodes[0], "InternalIP:", "Ready ", "True", "Non-terminated Pods:", "Allocatable:")
}

func testPatch(t *testing.T, e *env) {
	contains(t, "patch json", e.ok(t, "-n", ns, "patch", "deployment", "web", "--type=json", "-p", `[{"op":"replace","path":"/spec/replicas","value":3}]`), "deployment.apps/web patched")
	contains(t, "patch merge", e.ok(t, "-n", ns, "patch", "deployment", "web", "--type=merge", "-p", `{"metadata":{"labels":{"tier":"front"}}}`), "deployment.apps/web patched")
	// strategic: the env list merges by name (a merge patch would replace it).
	contains(t, "patch strategic", e.ok(t, "-n", ns, "patch", "deployment", "web", "-p", `{"spec":{"template":{"spec":{"containers":[{"name":"web","env":[{"name":"EXTRA","value":"1"}]}]}}}}`), "deployment.apps/web patched")
	const spec = "jsonpath={.spec.replicas} {.metadata.labels.tier} {.spec.template.spec.containers[0].env[*].name} {.spec.template.spec.containers[0].ports[0].containerPort}"
	if got := e.ok(t, "-n", ns, "get", "deployment", "web", "-o", spec); got != "3 front EXTRA GREETING 8080" {
		t.Errorf("after the patches: %q, want 3 front EXTRA GREETING 8080", got)
	}
	contains(t, "set image", e.ok(t, "-n", ns, "set", "image", "deployment/web", "web=docker.io/weir/testimage:1"), "deployment.apps/web image updated")
	if got := e.ok(t, "-n", ns, "get", "deployment", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].env[*].value} {.spec.template.spec.containers[0].ports[0].name}:{.spec.template.spec.containers[0].ports[0].containerPort}"); got != "docker.io/weir/testimage:1 1 hello http:8080" {
		t.Errorf("set image lost ports or env: %q", got)
	}
	e.rolledOut(t, "web")
}

// rolledOut waits for a Deployment's rollout in kc.
func (e *env) rolledOut(t *testing.T, name string) {
	t.Helper()
	out := e.run(t, call{timeout: 70 * time.Second}, "-n", ns, "rollout", "status", "deployment/"+name, "--timeout=60s").stdout
	contains(t, "rollout status", out, `deployment "`+name+`" successfully rolled out`)
}

func testEdit(t *testing.T, e *env) {
	editor := e.write(t, "editor.sh", "#!/bin/sh\nsed -i 's/a: b/a: edited/' \"$1\"\n")
	res := e.run(t, call{env: []string{"KUBE_EDITOR=sh " + editor, "EDITOR=false"}}, "-n", ns, "edit", "configmap", "cm1")
	contains(t, "edit", res.stdout, "configmap/cm1 edited")
	if got := e.ok(t, "-n", ns, "get", "cm", "cm1", "-o", "jsonpath={.data.a}"); got != "edited" {
		t.Errorf("after edit data.a = %q, want edited", got)
	}
	contains(t, "label", e.ok(t, "-n", ns, "label", "deployment", "web", "team=blue"), "deployment.apps/web labeled")
	contains(t, "annotate", e.ok(t, "-n", ns, "annotate", "deployment", "web", "note=hi there"), "deployment.apps/web annotated")
	if got := e.ok(t, "-n", ns, "get", "deployments", "-l", "team=blue", "-o", "jsonpath={.items[*].metadata.name} {.items[*].metadata.annotations.note}"); got != "web hi there" {
		t.Errorf("label and annotate: %q, want web hi there", got)
	}
	contains(t, "label --overwrite", e.ok(t, "-n", ns, "label", "deployment", "web", "team=red", "--overwrite"), "deployment.apps/web labeled")
	contains(t, "label remove", e.ok(t, "-n", ns, "label", "deployment", "web", "team-"), "deployment.apps/web unlabeled")
	contains(t, "scale", e.ok(t, "-n", ns, "scale", "deployment", "web", "--replicas=2"), "deployment.apps/web scaled")
	e.eventually(t, 60*time.Second, "2 ready replicas", func(s string) bool { return s == "2 2" },
		"-n", ns, "get", "deployment", "web", "-o", "jsonpath={.spec.replicas} {.status.readyReplicas}")
}

// revisions are the REVISION column of rollout history.
func (e *env) revisions(t *testing.T, name string) []string {
	t.Helper()
	var revs []string
	for _, l := range strings.Split(e.ok(t, "-n", ns, "rollout", "history", "deployment/"+name), "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			if _, err := strconv.Atoi(f[0]); err == nil {
				revs = append(revs, f[0])
			}
		}
	}
	return revs
}

func testRollout(t *testing.T, e *env) {
	// web: 1 apply, 2 strategic patch (env), 3 set image.
	if got := e.revisions(t, "web"); strings.Join(got, " ") != "1 2 3" {
		t.Errorf("rollout history: revisions %v, want 1 2 3", got)
	}
	contains(t, "rollout undo", e.ok(t, "-n", ns, "rollout", "undo", "deployment/web", "--to-revision=1"), "deployment.apps/web rolled back")
	e.rolledOut(t, "web")
	if got := e.ok(t, "-n", ns, "get", "deployment", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].env[*].name}"); got != "weir/testimage:1 GREETING" {
		t.Errorf("after undo to revision 1: %q, want weir/testimage:1 GREETING", got)
	}
	if got := e.revisions(t, "web"); strings.Join(got, " ") != "2 3 4" {
		t.Errorf("rollout history after undo: %v, want 2 3 4 (revision 1 became 4)", got)
	}
	contains(t, "rollout restart", e.ok(t, "-n", ns, "rollout", "restart", "deployment/web"), "deployment.apps/web restarted")
	e.rolledOut(t, "web")
	if got := e.ok(t, "-n", ns, "get", "deployment", "web", "-o", `jsonpath={.spec.template.metadata.annotations.kubectl\.kubernetes\.io/restartedAt}`); got == "" {
		t.Errorf("rollout restart set no restartedAt annotation")
	}
	// Paused: template changes make no new ReplicaSet until resumed.
	contains(t, "rollout pause", e.ok(t, "-n", ns, "rollout", "pause", "deployment/web"), "deployment.apps/web paused")
	before := len(rows(e.ok(t, "-n", ns, "get", "rs", "-l", "app=web")))
	contains(t, "set env", e.ok(t, "-n", ns, "set", "env", "deployment/web", "FOO=bar"), "deployment.apps/web env updated")
	contains(t, "set resources", e.ok(t, "-n", ns, "set", "resources", "deployment/web", "-c", "web", "--requests=cpu=10m,memory=16Mi", "--limits=memory=64Mi"), "deployment.apps/web resource requirements updated")
	time.Sleep(2 * time.Second) // the controller had time to (wrongly) roll
	if after := len(rows(e.ok(t, "-n", ns, "get", "rs", "-l", "app=web"))); after != before {
		t.Errorf("paused Deployment: %d ReplicaSets before set env/resources, %d after (kube makes none while paused)", before, after)
	}
	contains(t, "rollout resume", e.ok(t, "-n", ns, "rollout", "resume", "deployment/web"), "deployment.apps/web resumed")
	e.rolledOut(t, "web")
	if got := e.ok(t, "-n", ns, "get", "deployment", "web", "-o", "jsonpath={.spec.paused} {.spec.template.spec.containers[0].env[*].name} {.spec.template.spec.containers[0].resources.requests.cpu} {.spec.template.spec.containers[0].resources.limits.memory}"); got != " GREETING FOO 10m 64Mi" {
		t.Errorf("after set env/resources and resume: %q, want ' GREETING FOO 10m 64Mi'", got)
	}
	revs := e.revisions(t, "web")
	if len(revs) == 0 || revs[len(revs)-1] != "6" {
		t.Errorf("rollout history after restart and resume: %v, want the last revision 6", revs)
	}
}

func testAuth(t *testing.T, e *env) {
	if got := strings.TrimSpace(e.ok(t, "auth", "can-i", "create", "pods")); got != "yes" {
		t.Errorf("auth can-i create pods: %q", got)
	}
	if got := strings.TrimSpace(e.ok(t, "auth", "can-i", "delete", "deployments", "-n", ns)); got != "yes" {
		t.Errorf("auth can-i delete deployments: %q", got)
	}
	out := e.ok(t, "auth", "whoami")
	contains(t, "auth whoami", out, "Username", "weir:admin", "system:masters")
	out = e.ok(t, "-n", ns, "get", "events")
	contains(t, "get events", out, "LAST SEEN", "Scheduled", "pod/web-", "ScalingReplicaSet", "deployment/web")
	out = e.ok(t, "-n", ns, "get", "events", "--field-selector", "involvedObject.kind=Deployment,involvedObject.name=web", "-o", "custom-columns=KIND:.involvedObject.kind,NAME:.involvedObject.name")
	if len(rows(out)) == 0 {
		t.Errorf("events of deployment web: none")
	}
	for _, r := range rows(out) {
		if r[0] != "Deployment" || r[1] != "web" {
			t.Errorf("events --field-selector involvedObject: row %v", r)
		}
	}
}

func testDelete(t *testing.T, e *env) {
	for _, name := range []string{"orphan", "bg", "fg"} {
		e.ok(t, "-n", ns, "create", "deployment", name, "--image=weir/testimage:1")
	}
	for _, name := range []string{"orphan", "bg", "fg"} {
		e.run(t, call{timeout: 70 * time.Second}, "-n", ns, "rollout", "status", "deployment/"+name, "--timeout=60s")
	}
	pod := strings.TrimPrefix(strings.TrimSpace(e.ok(t, "-n", ns, "get", "pods", "-l", "app=fg", "-o", "name")), "pod/")
	contains(t, "wait Ready", e.ok(t, "-n", ns, "wait", "--for=condition=Ready", "pod/"+pod, "--timeout=30s"), "pod/"+pod+" condition met")

	// orphan: the ReplicaSet and its pod stay, without an owner.
	contains(t, "delete orphan", e.ok(t, "-n", ns, "delete", "deployment", "orphan", "--cascade=orphan"), `deployment.apps "orphan" deleted`)
	out := e.ok(t, "-n", ns, "get", "rs", "-l", "app=orphan", "-o", "jsonpath={.items[*].metadata.name}|{.items[*].metadata.ownerReferences}")
	if name, owners, _ := strings.Cut(out, "|"); name == "" || owners != "" {
		t.Errorf("after --cascade=orphan: ReplicaSet %q with owners %q, want one without owners", name, owners)
	}
	// background: the Deployment goes at once, the garbage collector
	// removes its ReplicaSet and pods. kubectl's check that it is gone
	// is a 404.
	contains(t, "delete background", e.run(t, call{allow: []string{"GET 404"}}, "-n", ns, "delete", "deployment", "bg", "--cascade=background").stdout, `deployment.apps "bg" deleted`)
	e.eventually(t, 30*time.Second, "the ReplicaSet and pods of bg collected", func(s string) bool { return s == "" },
		"-n", ns, "get", "rs,pods", "-l", "app=bg", "-o", "name")
	// foreground with --wait: kubectl returns once the Deployment, which
	// waits for its dependents, is gone.
	res := e.run(t, call{timeout: 60 * time.Second, allow: []string{"GET 404"}}, "-n", ns, "delete", "deployment", "fg", "--cascade=foreground", "--wait=true", "--timeout=50s")
	contains(t, "delete foreground", res.stdout, `deployment.apps "fg" deleted`)
	if out := e.ok(t, "-n", ns, "get", "rs", "-l", "app=fg", "-o", "name"); out != "" {
		t.Errorf("after a foreground delete the ReplicaSet remains: %s", out)
	}
	// the orphaned ReplicaSet, with --wait, and wait --for=delete.
	e.run(t, call{timeout: 60 * time.Second, allow: []string{"GET 404"}}, "-n", ns, "delete", "rs", "-l", "app=orphan", "--wait=true", "--timeout=50s")
	e.run(t, call{timeout: 40 * time.Second, allow: []string{"GET 404"}}, "-n", ns, "wait", "--for=delete", "pod", "-l", "app=orphan", "--timeout=30s")
	if out := e.ok(t, "-n", ns, "get", "pods", "-l", "app=orphan", "-o", "name"); out != "" {
		t.Errorf("pods of the deleted orphan ReplicaSet remain: %s", out)
	}
	res = e.run(t, call{fail: true, allow: []string{"GET 404"}}, "-n", ns, "get", "deployment", "fg")
	contains(t, "get a deleted deployment", res.stderr, `Error from server (NotFound): deployments.apps "fg" not found`)
}

// testNodes: cordon, taint, drain (through pods/eviction), uncordon;
// expose, kubectl events and go-template output.
func testNodes(t *testing.T, e *env) {
	node := e.nodes[1]
	contains(t, "cordon", e.ok(t, "cordon", node), "node/"+node+" cordoned")
	if got := e.ok(t, "get", "node", node, "-o", "jsonpath={.spec.unschedulable}"); got != "true" {
		t.Errorf("cordoned node: unschedulable %q", got)
	}
	contains(t, "get node", e.ok(t, "get", "node", node), "Ready,SchedulingDisabled")
	contains(t, "taint", e.ok(t, "taint", "node", node, "kc=test:NoSchedule"), "node/"+node+" tainted")
	if got := e.ok(t, "get", "node", node, "-o", "jsonpath={.spec.taints[*].key}"); !strings.Contains(got, "kc") {
		t.Errorf("taints %q, want kc", got)
	}
	contains(t, "untaint", e.ok(t, "taint", "node", node, "kc-"), "node/"+node+" untainted")
	res := e.run(t, call{timeout: 70 * time.Second, allow: []string{"GET 404"}}, "drain", node, "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=60s")
	contains(t, "drain", res.stdout, "node/"+node+" drained")
	if out := e.ok(t, "get", "pods", "-A", "--field-selector", "spec.nodeName="+node, "-o", "name"); out != "" {
		t.Errorf("pods left on the drained node: %s", out)
	}
	contains(t, "uncordon", e.ok(t, "uncordon", node), "node/"+node+" uncordoned")
	e.rolledOut(t, "web")

	contains(t, "expose", e.ok(t, "-n", ns, "expose", "deployment", "web", "--name=web2", "--port=81", "--target-port=8080"), "service/web2 exposed")
	if got := e.ok(t, "-n", ns, "get", "svc", "web2", "-o", "go-template={{.spec.type}} {{(index .spec.ports 0).port}} {{.spec.selector.app}}"); got != "ClusterIP 81 web" {
		t.Errorf("exposed service (go-template): %q, want ClusterIP 81 web", got)
	}
	contains(t, "kubectl events", e.ok(t, "events", "-n", ns, "--for=deployment/web"), "ScalingReplicaSet", "Deployment/web")
}
