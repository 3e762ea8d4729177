package kubectl

import (
	"strings"
	"testing"
	"time"
)

// pdbNS is the namespace of the disruption budget group.
const pdbNS = "kc-pdb"

// guardedYAML is a Deployment of two pods pinned to one node (NODE) and a
// budget that lets one of them go at a time.
const guardedYAML = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: guarded
  namespace: kc-pdb
spec:
  replicas: 2
  selector:
    matchLabels: {app: guarded}
  template:
    metadata:
      labels: {app: guarded}
    spec:
      nodeSelector: {kubernetes.io/hostname: NODE}
      terminationGracePeriodSeconds: 1
      containers:
      - name: c
        image: weir/testimage:1
        imagePullPolicy: Never
        args: ["-udp-echo="]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: guarded
  namespace: kc-pdb
spec:
  minAvailable: 1
  selector:
    matchLabels: {app: guarded}
`

// testDisruption: `get pdb` shows kube's columns from the disruption
// controller's status; `kubectl drain` evicts through pods/eviction: it
// evicts the one pod the budget allows, then retries the other while the
// budget is exhausted (the replacement cannot schedule on the cordoned
// node) until its --timeout; once the budget allows it, drain succeeds.
func testDisruption(t *testing.T, e *env) {
	node := e.nodes[1]
	contains(t, "create namespace", e.ok(t, "create", "namespace", pdbNS), "namespace/"+pdbNS+" created")
	out := e.run(t, call{allow: []string{"GET 404"}}, "apply", "-f", e.write(t, "guarded.yaml", strings.ReplaceAll(guardedYAML, "NODE", node))).stdout
	contains(t, "apply deployment and pdb", out, "deployment.apps/guarded created", "poddisruptionbudget.policy/guarded created")
	e.eventually(t, 90*time.Second, "get pdb: min 1, max N/A, 1 allowed", func(out string) bool {
		r := rows(out)
		return len(r) == 1 && len(r[0]) == 5 && strings.Join(r[0][:4], " ") == "guarded 1 N/A 1"
	}, "-n", pdbNS, "get", "pdb")
	contains(t, "get pdb columns", e.ok(t, "-n", pdbNS, "get", "pdb"), "NAME", "MIN AVAILABLE", "MAX UNAVAILABLE", "ALLOWED DISRUPTIONS", "AGE")

	// the budget allows one eviction; the second is refused (429) and
	// retried until drain's timeout
	start := time.Now()
	res := e.run(t, call{timeout: 40 * time.Second, fail: true, allow: []string{"GET 404", "POST 429"}},
		"drain", node, "--ignore-daemonsets", "--delete-emptydir-data", "--pod-selector=app=guarded", "--timeout=12s")
	contains(t, "drain blocked by the budget", res.stderr, "Cannot evict pod as it would violate the pod's disruption budget.", "will retry after")
	contains(t, "drain evicted one pod", res.stdout, "evicting pod "+pdbNS+"/guarded-", "evicted")
	if el := time.Since(start); el < 10*time.Second {
		t.Errorf("drain gave up after %v, before its 12s timeout", el)
	}
	refused := 0
	for _, rq := range res.reqs {
		if rq.method == "POST" && strings.Contains(rq.url, "/eviction") && rq.status == 429 {
			refused++
		}
	}
	if refused < 2 {
		t.Errorf("drain posted %d refused evictions, want it to retry (>= 2)", refused)
	}
	e.eventually(t, 30*time.Second, "one guarded pod left on the node", func(out string) bool { return len(strings.Fields(out)) == 1 },
		"-n", pdbNS, "get", "pods", "-l", "app=guarded", "--field-selector", "spec.nodeName="+node, "-o", "name")
	contains(t, "pdb exhausted", e.ok(t, "-n", pdbNS, "get", "pdb", "guarded", "-o", "jsonpath={.status.disruptionsAllowed} {.status.currentHealthy}/{.status.desiredHealthy}"), "0 1/1")

	// a budget that allows it lets drain finish
	e.ok(t, "-n", pdbNS, "patch", "pdb", "guarded", "--type=merge", "-p", `{"spec":{"minAvailable":0}}`)
	res = e.run(t, call{timeout: 50 * time.Second, allow: []string{"GET 404", "POST 429"}},
		"drain", node, "--ignore-daemonsets", "--delete-emptydir-data", "--pod-selector=app=guarded", "--timeout=40s")
	contains(t, "drain once the budget allows it", res.stdout, "node/"+node+" drained")
	e.eventually(t, 30*time.Second, "no guarded pod on the drained node", func(out string) bool { return strings.TrimSpace(out) == "" },
		"-n", pdbNS, "get", "pods", "-l", "app=guarded", "--field-selector", "spec.nodeName="+node, "-o", "name")
	contains(t, "uncordon", e.ok(t, "uncordon", node), "node/"+node+" uncordoned")
	e.run(t, call{timeout: 60 * time.Second, allow: []string{"GET 404"}}, "delete", "namespace", pdbNS, "--wait", "--timeout=50s")
}
