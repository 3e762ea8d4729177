package api_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKubectlExplain(t *testing.T) {
	k := newKubectlEnv(t)
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"explain", "pod.spec.containers"}, []string{
			"KIND:       Pod", "VERSION:    v1", "FIELD: containers <[]Container>",
			"List of containers belonging to the pod.", "FIELDS:", "image\t<string>", "readinessProbe\t<Probe>"}},
		{[]string{"explain", "deployments.spec.strategy", "--api-version=apps/v1"}, []string{
			"GROUP:      apps", "KIND:       Deployment", "VERSION:    v1", "FIELD: strategy <DeploymentStrategy>",
			"The deployment strategy to use to replace existing pods with new ones.", "rollingUpdate\t<RollingUpdateDeployment>",
			"type\t<string>"}},
		// kubectl's older explain reads the protobuf v2 document.
		{[]string{"explain", "services.spec.ports", "--output=plaintext-openapiv2"}, []string{
			"KIND:     Service", "RESOURCE: ports <[]Object>", "ServicePort contains information on service's port.",
			"targetPort\t<string>"}},
	} {
		out, err := k.run(t, c.args...)
		if err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(c.args, " "), err, out)
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("kubectl %s: output lacks %q:\n%s", strings.Join(c.args, " "), w, out)
			}
		}
	}
	if len(k.seen("GET /openapi/v3/api/v1?hash=")) == 0 || len(k.seen("GET /openapi/v3/apis/apps/v1?hash=")) == 0 {
		t.Errorf("kubectl explain did not read the v3 documents: %v", k.seen("GET /openapi"))
	}
	if len(k.seen("GET /openapi/v2")) == 0 {
		t.Errorf("kubectl explain --output=plaintext-openapiv2 did not read /openapi/v2: %v", k.seen("GET /openapi"))
	}
}

func TestKubectlApplyStrictFieldValidation(t *testing.T) {
	k := newKubectlEnv(t)
	manifest := filepath.Join(k.dir, "deploy.yaml")
	if err := os.WriteFile(manifest, []byte(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx
        imagee: nginx
`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := k.run(t, "apply", "--dry-run=server", "-f", manifest)
	if err == nil {
		t.Fatalf("kubectl apply of an unknown field succeeded:\n%s", out)
	}
	// The server, not kubectl, found the field: kubectl found
	// fieldValidation on the Deployment's PATCH in the apps/v1 v3
	// document, so it skipped its own schema check and asked for Strict.
	for _, w := range []string{"Error from server (BadRequest)", "strict decoding error: unknown field", `imagee"`} {
		if !strings.Contains(out, w) {
			t.Errorf("kubectl output lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "error validating data") {
		t.Errorf("kubectl validated on the client side:\n%s", out)
	}
	posts := k.seen("POST /apis/apps/v1/namespaces/default/deployments?")
	if len(posts) != 1 || !strings.Contains(posts[0], "fieldValidation=Strict") || !strings.Contains(posts[0], "dryRun=All") {
		t.Errorf("create requests %v, want one with fieldValidation=Strict and dryRun=All", posts)
	}
	if len(k.seen("GET /openapi/v3/apis/apps/v1")) == 0 {
		t.Errorf("kubectl did not read the apps/v1 v3 document: %v", k.seen("GET /openapi"))
	}
	// Without the unknown field the same apply passes the server's checks.
	if err := os.WriteFile(manifest, []byte(strings.Replace(mustRead(t, manifest), "        imagee: nginx\n", "", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := k.run(t, "apply", "--dry-run=server", "-f", manifest); err != nil || !strings.Contains(out, "deployment.apps/web created (server dry run)") {
		t.Errorf("kubectl apply of a valid Deployment: %v\n%s", err, out)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
