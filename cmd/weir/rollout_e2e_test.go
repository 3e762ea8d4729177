package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/controllers"
	"github.com/weirnet/weir/control/controllers/kube"
	"github.com/weirnet/weir/control/store/storetest"
)

// startWorkloads runs the real controllers against the env's API, and a
// stand-in agent that marks default's pods Ready once ready is set.
func startWorkloads(t *testing.T, e *cliEnv) *atomic.Bool {
	t.Helper()
	kc := kube.New(e.url, cliToken)
	t.Cleanup(kc.Close)
	ctx, cancel := context.WithCancel(context.Background())
	m := controllers.New(controllers.Config{Client: kc, Logger: storetest.Logger(), Resync: 200 * time.Millisecond})
	var ready atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() { m.Run(ctx) })
	wg.Go(func() {
		for ctx.Err() == nil {
			if ready.Load() {
				markPodsReady(ctx, kc)
			}
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
	return &ready
}

// markPodsReady writes what an agent writes through pods/status once a
// pod's containers pass readiness.
func markPodsReady(ctx context.Context, kc *kube.Client) {
	var l corev1.PodList
	if err := kc.Get(ctx, kube.Pods, "default", "", &l); err != nil {
		return
	}
	for i := range l.Items {
		p := &l.Items[i]
		if controllers.PodReady(p) || p.DeletionTimestamp != nil {
			continue
		}
		p.Status.Phase = corev1.PodRunning
		p.Status.PodIP = fmt.Sprintf("10.8.0.%d", i+1)
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()}}
		_ = kc.UpdateStatus(ctx, kube.Pods, p.Namespace, p.Name, p, nil)
	}
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
