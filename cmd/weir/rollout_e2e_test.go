package main

import (
	"strings"
	"sync/atomic"
	"testing"

	"github.com/weirnet/weir/control/controllers/controllerstest"
)

// startWorkloads runs the real controllers against the env's API, and a
// stand-in agent that marks default's pods Ready once ready is set.
func startWorkloads(t *testing.T, e *cliEnv) *atomic.Bool {
	t.Helper()
	return controllerstest.StartWorkloads(t, e.url, cliToken, "10.8.0")
}

const cliDeployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: "weir-test:1"}]}
`

func (e *cliEnv) mustRollOut(t *testing.T, args ...string) string {
	t.Helper()
	out := e.mustRun(t, rolloutCmd, "", append([]string{"status"}, args...)...)
	if !strings.HasSuffix(out, "deployment \"web\" successfully rolled out\n") {
		t.Fatalf("rollout status %v printed:\n%s", args, out)
	}
	return out
}

// TestCLIRolloutAndScale runs weir rollout and weir scale against a real
// API server and the real controllers.
func TestCLIRolloutAndScale(t *testing.T) {
	e := newCLIEnv(t)
	ready := startWorkloads(t, e)
	e.mustRun(t, applyCmd, cliDeployment, "-f", "-")

	out, _, err := e.run(t, rolloutCmd, "", "status", "deployment/web", "--timeout", "1s")
	if err == nil || !strings.Contains(err.Error(), "timed out after 1s waiting for deployment \"web\"") ||
		!strings.Contains(out, `Waiting for deployment "web" rollout to finish`) {
		t.Fatalf("status with no ready pod: %v\n%s", err, out)
	}
	ready.Store(true)
	e.mustRollOut(t, "deploy/web", "--timeout", "30s")
	e.mustRollOut(t, "deployment", "web", "-w=false")

	wantLines(t, "restart", e.mustRun(t, rolloutCmd, "", "restart", "deployments/web"), "deployment.apps/web restarted")
	e.mustRollOut(t, "deployment/web", "--timeout", "30s")
	wantLines(t, "history", e.mustRun(t, rolloutCmd, "", "history", "deployment/web"),
		"deployment.apps/web", "REVISION  CHANGE-CAUSE", "1         <none>", "2         <none>")
	if out := e.mustRun(t, rolloutCmd, "", "history", "deployment/web", "--revision", "2"); !strings.Contains(out, "kubectl.kubernetes.io/restartedAt") {
		t.Errorf("revision 2's template has no restartedAt annotation:\n%s", out)
	}

	wantLines(t, "undo", e.mustRun(t, rolloutCmd, "", "undo", "deployment/web"), "deployment.apps/web rolled back")
	e.mustRollOut(t, "deployment/web", "--timeout", "30s")
	wantLines(t, "history after undo", e.mustRun(t, rolloutCmd, "", "history", "deployment/web"),
		"deployment.apps/web", "REVISION  CHANGE-CAUSE", "2         <none>", "3         <none>")
	if _, _, err := e.run(t, rolloutCmd, "", "undo", "deployment/web", "--to-revision", "1"); err == nil ||
		!strings.Contains(err.Error(), "unable to find specified revision 1") {
		t.Errorf("undo to a revision that became 3: %v", err)
	}

	wantLines(t, "scale", e.mustRun(t, scaleCmd, "", "deployment/web", "--replicas", "3", "--current-replicas", "2"), "deployment.apps/web scaled")
	e.mustRollOut(t, "deployment/web", "--timeout", "30s")
	_, _, err = e.run(t, scaleCmd, "", "deploy/web", "--replicas", "1", "--current-replicas", "5")
	if err == nil || !strings.Contains(err.Error(), "precondition failed: expected deployment.apps/web to have 5 replicas, it has 3") {
		t.Errorf("scale with a wrong precondition: %v", err)
	}

	for _, bad := range []struct {
		cmd  cliFunc
		args []string
		want string
	}{
		{rolloutCmd, []string{"status", "pod/web"}, `type "pod" is not supported here`},
		{rolloutCmd, []string{"pause", "deployment/web"}, "unknown rollout subcommand"},
		{rolloutCmd, []string{"status", "deployment/nope", "--timeout", "5s"}, "not found"},
		{scaleCmd, []string{"deployment/web"}, "pass --replicas N"},
		{scaleCmd, []string{"job/x", "--replicas", "1"}, `type "job" is not supported here`},
	} {
		if _, _, err := e.run(t, bad.cmd, "", bad.args...); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%v: %v, want an error with %q", bad.args, err, bad.want)
		}
	}
}
