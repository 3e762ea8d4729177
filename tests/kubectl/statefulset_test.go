package kubectl

import (
	"strings"
	"testing"
	"time"
)

// stsNS is the namespace of the StatefulSet group.
const stsNS = "kc-sts"

const stsYAML = `apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: kc-sts
spec:
  clusterIP: None
  selector: {app: web}
  ports:
  - {name: http, port: 8080}
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
  namespace: kc-sts
spec:
  serviceName: web
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: srv
        image: weir/testimage:1
        imagePullPolicy: Never
        args: ["-udp-echo="]
`

// testStatefulSet: a StatefulSet with its headless Service starts web-0
// and web-1, shows kube's columns in `get sts`, `rollout status` reports
// it rolled out, `scale sts` adds web-2, a template change rolls
// (`rollout status`, `rollout history`) and `rollout undo` goes back; a
// deleted pod comes back under its name.
func testStatefulSet(t *testing.T, e *env) {
	contains(t, "create namespace", e.ok(t, "create", "namespace", stsNS), "namespace/"+stsNS+" created")
	contains(t, "apply statefulset", e.run(t, call{allow: []string{"GET 404"}}, "apply", "-f", e.write(t, "sts.yaml", stsYAML)).stdout,
		"service/web created", "statefulset.apps/web created")
	e.eventually(t, 90*time.Second, "get sts: 2/2 ready", func(out string) bool {
		r := rows(out)
		return len(r) == 1 && strings.Join(r[0][:2], " ") == "web 2/2"
	}, "-n", stsNS, "get", "sts")
	contains(t, "get sts -o wide", e.ok(t, "-n", stsNS, "get", "statefulsets", "-o", "wide"), "NAME", "READY", "AGE", "CONTAINERS", "IMAGES",
		"srv", "weir/testimage:1")
	if got := e.ok(t, "-n", stsNS, "get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].metadata.name} {.items[*].spec.hostname} {.items[*].spec.subdomain}"); got != "web-0 web-1 web-0 web-1 web web" {
		t.Errorf("pods: %q, want web-0 web-1 with their hostnames and subdomain web", got)
	}
	contains(t, "rollout status sts", e.run(t, call{timeout: 100 * time.Second}, "-n", stsNS, "rollout", "status", "sts/web", "--timeout=90s").stdout,
		"partitioned roll out complete: 2 new pods have been updated")

	contains(t, "scale sts", e.ok(t, "-n", stsNS, "scale", "sts/web", "--replicas=3"), "statefulset.apps/web scaled")
	e.eventually(t, 90*time.Second, "get sts: 3/3 ready", func(out string) bool {
		r := rows(out)
		return len(r) == 1 && strings.Join(r[0][:2], " ") == "web 3/3"
	}, "-n", stsNS, "get", "sts")

	// a template change rolls web-2, web-1, web-0
	e.ok(t, "-n", stsNS, "set", "env", "sts/web", "ROLL=2")
	contains(t, "rollout status sts after set env", e.run(t, call{timeout: 150 * time.Second}, "-n", stsNS, "rollout", "status", "sts/web", "--timeout=140s").stdout,
		"partitioned roll out complete: 3 new pods have been updated")
	e.eventually(t, 60*time.Second, "pods of the second template", func(out string) bool { return out == "2 2 2" },
		"-n", stsNS, "get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].spec.containers[0].env[0].value}")
	out := e.ok(t, "-n", stsNS, "rollout", "history", "sts/web")
	contains(t, "rollout history sts", out, "REVISION", "CHANGE-CAUSE")
	if r := rows(out); len(r) < 3 || r[len(r)-2][0] != "1" || r[len(r)-1][0] != "2" {
		t.Errorf("rollout history sts: want revisions 1 and 2:\n%s", out)
	}
	contains(t, "rollout undo sts", e.ok(t, "-n", stsNS, "rollout", "undo", "sts/web"), "statefulset.apps/web rolled back")
	contains(t, "rollout status sts after undo", e.run(t, call{timeout: 150 * time.Second}, "-n", stsNS, "rollout", "status", "sts/web", "--timeout=140s").stdout,
		"partitioned roll out complete: 3 new pods have been updated")
	e.eventually(t, 60*time.Second, "pods of the first template", func(out string) bool { return strings.TrimSpace(out) == "" },
		"-n", stsNS, "get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].spec.containers[0].env}")

	// a deleted pod comes back under its name
	uid := e.ok(t, "-n", stsNS, "get", "pod", "web-1", "-o", "jsonpath={.metadata.uid}")
	e.run(t, call{timeout: 60 * time.Second}, "-n", stsNS, "delete", "pod", "web-1", "--wait", "--timeout=50s")
	e.eventually(t, 90*time.Second, "web-1 back and running", func(out string) bool {
		u, phase, _ := strings.Cut(out, " ")
		return u != "" && u != uid && phase == "Running"
	}, "-n", stsNS, "get", "pods", "-l", "statefulset.kubernetes.io/pod-name=web-1", "-o", "jsonpath={.items[*].metadata.uid} {.items[*].status.phase}")

	contains(t, "delete", e.run(t, call{timeout: 60 * time.Second, allow: []string{"GET 404"}}, "-n", stsNS, "delete", "sts/web", "svc/web", "--wait", "--timeout=50s").stdout,
		`statefulset.apps "web" deleted`)
	e.eventually(t, 60*time.Second, "stateful pods gone", func(out string) bool { return strings.TrimSpace(out) == "" },
		"-n", stsNS, "get", "pods", "-o", "name")
}
