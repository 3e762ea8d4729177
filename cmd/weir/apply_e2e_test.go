package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

var shopFiles = map[string]string{
	"00-namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n",
	"app/web.yaml": `apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop, labels: {app: web}}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
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
`,
	"app/settings.json": `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings","namespace":"shop"},"data":{"mode":"prod"}}`,
	"notes.txt":         "not a manifest",
}

// TestCLIApplyGetDescribeDelete drives the client commands the way a user
// does, against a real API server.
func TestCLIApplyGetDescribeDelete(t *testing.T) {
	e := newCLIEnv(t)
	dir := writeManifests(t, shopFiles)

	out := e.mustRun(t, applyCmd, "", "-f", dir)
	wantLines(t, "first apply", out,
		"namespace/shop created", "configmap/settings created", "service/web created", "deployment.apps/web created")
	out = e.mustRun(t, applyCmd, "", "-f", dir)
	wantLines(t, "second apply", out,
		"namespace/shop unchanged", "configmap/settings unchanged", "service/web unchanged", "deployment.apps/web unchanged")
	out = e.mustRun(t, applyCmd, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {mode: dev}\n", "-f", "-", "-n", "shop")
	wantLines(t, "apply from stdin", out, "configmap/settings configured")

	out = e.mustRun(t, getCmd, "", "svc", "-n", "shop")
	if !regexp.MustCompile(`(?m)^NAME +TYPE +CLUSTER-IP +EXTERNAL-IP +PORT\(S\) +AGE\nweb +ClusterIP +10\.\d+\.\d+\.\d+ +<none> +80/TCP +\d+s\n$`).MatchString(out) {
		t.Errorf("get svc:\n%s", out)
	}
	out = e.mustRun(t, getCmd, "", "svc", "-A", "-o", "wide")
	if !strings.HasPrefix(out, "NAMESPACE ") || !strings.Contains(out, "SELECTOR") || !regexp.MustCompile(`(?m)^shop +web .* app=web$`).MatchString(out) {
		t.Errorf("get svc -A -o wide:\n%s", out)
	}
	out = e.mustRun(t, getCmd, "", "deploy", "web", "-n", "shop")
	if !regexp.MustCompile(`(?m)^web +0/2 +0 +0 +\d+s$`).MatchString(out) {
		t.Errorf("get deploy web:\n%s", out)
	}
	out = e.mustRun(t, getCmd, "", "cm/settings", "-n", "shop", "-o", "json")
	var obj map[string]any
	if err := json.Unmarshal([]byte(out), &obj); err != nil || obj["kind"] != "ConfigMap" {
		t.Errorf("get -o json: %v\n%s", err, out)
	}
	out = e.mustRun(t, getCmd, "", "configmaps", "-n", "shop", "-o", "yaml")
	if !strings.Contains(out, "kind: List") || !strings.Contains(out, "name: settings") {
		t.Errorf("get -o yaml:\n%s", out)
	}
	out = e.mustRun(t, getCmd, "", "ns", "-o", "name")
	wantLines(t, "get ns -o name", out, "namespace/default", "namespace/kube-node-lease", "namespace/kube-public", "namespace/kube-system", "namespace/shop")
	out = e.mustRun(t, getCmd, "", "svc", "-n", "shop", "-l", "app=nope")
	if out != "" {
		t.Errorf("get with a selector matching nothing printed %q", out)
	}
	_, errOut, err := e.run(t, getCmd, "", "po", "-n", "shop")
	if err != nil || !strings.Contains(errOut, "No resources found in shop namespace.") {
		t.Errorf("get po in an empty namespace: %v %q", err, errOut)
	}

	out = e.mustRun(t, describeCmd, "", "svc", "web", "-n", "shop")
	for _, want := range []string{"Name:", "Namespace:          shop", "Selector:           app=web", "Type:               ClusterIP", "Events:"} {
		if !strings.Contains(out, want) {
			t.Errorf("describe svc lacks %q:\n%s", want, out)
		}
	}

	out = e.mustRun(t, deleteCmd, "", "-f", dir)
	wantLines(t, "delete -f", out,
		`deployment.apps "web" deleted`, `service "web" deleted`, `configmap "settings" deleted`, `namespace "shop" deleted`)
	_, _, err = e.run(t, deleteCmd, "", "-f", dir)
	if err == nil || !strings.Contains(err.Error(), "4 of 4 deletions failed") {
		t.Errorf("second delete: %v, want every deletion to fail", err)
	}
	e.mustRun(t, deleteCmd, "", "-f", dir, "--ignore-not-found")
}

func TestCLIApplyReportsBadObjectsAndContinues(t *testing.T) {
	e := newCLIEnv(t)
	dir := writeManifests(t, map[string]string{"a.yaml": `apiVersion: v1
kind: ConfigMap
metadata: {name: good}
---
apiVersion: v1
kind: Gizmo
metadata: {name: odd}
---
apiVersion: v1
kind: Service
metadata: {name: Bad_Name}
spec: {ports: [{port: 80}]}
`})
	out, errOut, err := e.run(t, applyCmd, "", "-f", dir)
	if err == nil || !strings.Contains(err.Error(), "2 of 3 objects failed") {
		t.Errorf("err = %v", err)
	}
	wantLines(t, "stdout", out, "configmap/good created")
	if !strings.Contains(errOut, `Gizmo "odd": no kind "Gizmo"`) || !strings.Contains(errOut, "Error from server (Invalid)") {
		t.Errorf("stderr:\n%s", errOut)
	}
	_, _, err = e.run(t, applyCmd, "kind: x\n", "-f", "-")
	if err == nil || !strings.Contains(err.Error(), "stdin: manifest document 1") {
		t.Errorf("malformed manifest: %v", err)
	}
}
