package kubectl

import (
	"strings"
	"testing"
	"time"
)

// wlNS is the namespace of the DaemonSet and CronJob group, so that their
// pods stay out of the other groups' counts (and out of drain's way).
const wlNS = "kc-wl"

const agentYAML = `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
  namespace: kc-wl
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: agent
        image: weir/testimage:1
        imagePullPolicy: Never
        args: ["-udp-echo="]
`

// testWorkloads: a DaemonSet runs one pod per node and shows kube's
// columns in `get ds`, rolls out a new template (`rollout status`) and
// back (`rollout history`, `rollout undo`, ControllerRevisions);
// `create cronjob` makes a CronJob `get cronjob` shows with its columns,
// and `create job --from=cronjob/...` instantiates its template.
func testWorkloads(t *testing.T, e *env) {
	contains(t, "create namespace", e.ok(t, "create", "namespace", wlNS), "namespace/"+wlNS+" created")
	contains(t, "apply daemonset", e.run(t, call{allow: []string{"GET 404"}}, "apply", "-f", e.write(t, "agent.yaml", agentYAML)).stdout,
		"daemonset.apps/agent created")
	e.eventually(t, 90*time.Second, "get ds: 2 desired, current, ready, up-to-date, available", func(out string) bool {
		r := rows(out)
		return len(r) == 1 && strings.Join(r[0][:6], " ") == "agent 2 2 2 2 2"
	}, "-n", wlNS, "get", "ds")
	out := e.ok(t, "-n", wlNS, "get", "ds", "-o", "wide")
	contains(t, "get ds -o wide", out, "NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR", "AGE",
		"CONTAINERS", "IMAGES", "SELECTOR", "app=agent")
	nodes := e.ok(t, "-n", wlNS, "get", "pods", "-l", "app=agent", "-o", "jsonpath={.items[*].spec.nodeName}")
	for _, n := range e.nodes {
		if !strings.Contains(nodes, n) {
			t.Errorf("daemon pods on %q, want one on %s", nodes, n)
		}
	}
	// a template change rolls node by node
	e.ok(t, "-n", wlNS, "set", "env", "ds/agent", "ROLL=2")
	contains(t, "rollout status ds", e.run(t, call{timeout: 100 * time.Second}, "-n", wlNS, "rollout", "status", "ds/agent", "--timeout=90s").stdout,
		`daemon set "agent" successfully rolled out`)
	if got := e.ok(t, "-n", wlNS, "get", "pods", "-l", "app=agent", "-o", "jsonpath={.items[*].spec.containers[0].env[0].value}"); got != "2 2" {
		t.Errorf("pods after the roll: env %q, want 2 2", got)
	}

	// history from ControllerRevisions; undo goes back to the first template
	out = e.ok(t, "-n", wlNS, "rollout", "history", "ds/agent")
	contains(t, "rollout history ds", out, "REVISION", "CHANGE-CAUSE")
	if r := rows(out); len(r) < 3 || r[len(r)-2][0] != "1" || r[len(r)-1][0] != "2" {
		t.Errorf("rollout history ds: want revisions 1 and 2:\n%s", out)
	}
	contains(t, "rollout undo ds", e.ok(t, "-n", wlNS, "rollout", "undo", "ds/agent"), "daemonset.apps/agent rolled back")
	contains(t, "rollout status ds after undo", e.run(t, call{timeout: 100 * time.Second}, "-n", wlNS, "rollout", "status", "ds/agent", "--timeout=90s").stdout,
		`daemon set "agent" successfully rolled out`)
	e.eventually(t, 60*time.Second, "pods of the first template", func(out string) bool { return strings.TrimSpace(out) == "" },
		"-n", wlNS, "get", "pods", "-l", "app=agent", "-o", "jsonpath={.items[*].spec.containers[0].env}")
	out = e.ok(t, "-n", wlNS, "get", "controllerrevisions")
	contains(t, "get controllerrevisions", out, "NAME", "CONTROLLER", "REVISION", "AGE", "daemonset.apps/agent")
	revs := map[string]bool{}
	for _, r := range rows(out) {
		revs[r[2]] = true
	}
	if len(revs) != 2 || !revs["2"] || !revs["3"] {
		t.Errorf("get controllerrevisions: want revisions 2 and 3 (the first renumbered by the undo):\n%s", out)
	}

	contains(t, "create cronjob", e.ok(t, "-n", wlNS, "create", "cronjob", "tick", "--image=weir/testimage:1", "--schedule=0 3 * * *",
		"--", "sh", "-c", "echo tick"), "cronjob.batch/tick created")
	out = e.ok(t, "-n", wlNS, "get", "cronjob", "tick")
	contains(t, "get cronjob", out, "NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE", "AGE")
	if r := rows(out); len(r) != 1 || len(r[0]) < 10 || strings.Join(r[0][:10], " ") != "tick 0 3 * * * <none> False 0 <none>" {
		t.Errorf("get cronjob: want tick 0 3 * * * <none> False 0 <none>:\n%s", out)
	}
	res := e.run(t, call{fail: true, allow: []string{"POST 422"}}, "-n", wlNS, "create", "cronjob", "bad", "--image=x", "--schedule=61 * * * *")
	contains(t, "create cronjob with a bad schedule", res.stderr, "spec.schedule")
	contains(t, "create job --from", e.ok(t, "-n", wlNS, "create", "job", "tick-now", "--from=cronjob/tick"), "job.batch/tick-now created")
	contains(t, "wait job from cronjob", e.run(t, call{timeout: 60 * time.Second}, "-n", wlNS, "wait", "--for=condition=complete", "job/tick-now", "--timeout=50s").stdout,
		"job.batch/tick-now condition met")
	if got := e.ok(t, "-n", wlNS, "get", "job", "tick-now", "-o", "jsonpath={.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}"); got != "CronJob/tick" {
		t.Errorf("job from cronjob owner %q, want CronJob/tick", got)
	}

	contains(t, "delete", e.run(t, call{timeout: 60 * time.Second, allow: []string{"GET 404"}}, "-n", wlNS, "delete", "ds/agent", "cronjob/tick", "--wait", "--timeout=50s").stdout,
		`daemonset.apps "agent" deleted`, `cronjob.batch "tick" deleted`)
	e.eventually(t, 60*time.Second, "daemon and job pods gone", func(out string) bool { return strings.TrimSpace(out) == "" },
		"-n", wlNS, "get", "pods", "-o", "name")
}
