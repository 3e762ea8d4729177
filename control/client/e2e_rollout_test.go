package client_test

import (
	"bytes"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/weirnet/weir/control/client"
	"github.com/weirnet/weir/control/controllers/controllerstest"
)

const rolloutDeployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: "weir-test:1"}]}
`

// workloadCluster is the e2e cluster plus the real controllers and a
// stand-in kubelet that marks pods Ready through pods/status while on.
type workloadCluster struct {
	*cluster
	kubeletOn *atomic.Bool
}

func newWorkloadCluster(t *testing.T) *workloadCluster {
	t.Helper()
	c := newCluster(t)
	return &workloadCluster{cluster: c, kubeletOn: controllerstest.StartWorkloads(t, c.server.URL, token, "10.9.0")}
}

func (wc *workloadCluster) status(t *testing.T, timeout time.Duration) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := wc.client.RolloutStatus(ctxT(t), client.RolloutStatusOptions{Namespace: "default", Name: "web", Watch: true, Timeout: timeout}, &out)
	return out.String(), err
}

func (wc *workloadCluster) mustRollOut(t *testing.T) string {
	t.Helper()
	out, err := wc.status(t, 30*time.Second)
	if err != nil || !strings.HasSuffix(out, "deployment \"web\" successfully rolled out\n") {
		t.Fatalf("rollout status: %v\n%s", err, out)
	}
	return out
}

func (wc *workloadCluster) history(t *testing.T) []client.Revision {
	t.Helper()
	_, revs, err := wc.client.RolloutHistory(ctxT(t), "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	return revs
}

// TestE2ERollout drives a Deployment through the real controllers: status
// times out while no pod is ready and succeeds once they are; restart
// makes revision 2; undo brings revision 1's template back as revision 3.
func TestE2ERollout(t *testing.T) {
	wc := newWorkloadCluster(t)
	apply(t, wc.client, rolloutDeployment, client.NamespaceOptions{Namespace: "default"})

	out, err := wc.status(t, 1500*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "timed out after 1.5s") || !strings.Contains(out, `Waiting for deployment "web" rollout to finish`) {
		t.Fatalf("status without ready pods: err %v, output:\n%s", err, out)
	}
	wc.kubeletOn.Store(true)
	out = wc.mustRollOut(t)
	t.Logf("first rollout:\n%s", out)

	if err := wc.client.RolloutRestart(ctxT(t), "default", "web", time.Now()); err != nil {
		t.Fatal(err)
	}
	out = wc.mustRollOut(t)
	if !strings.Contains(out, "Waiting for deployment") {
		t.Errorf("restart's rollout printed no progress:\n%s", out)
	}
	revs := wc.history(t)
	if len(revs) != 2 || revs[0].Number != 1 || revs[1].Number != 2 || revs[0].ReplicaSet == revs[1].ReplicaSet {
		t.Fatalf("history after restart: %+v", revs)
	}
	if _, ok := revs[1].Template.Annotations[client.RestartedAtAnnotation]; !ok {
		t.Errorf("revision 2's template has no %s annotation", client.RestartedAtAnnotation)
	}
	var table bytes.Buffer
	if err := client.PrintHistory(&table, client.WorkloadRef{GVR: client.DeploymentsGVR, Name: "web"}, revs); err != nil {
		t.Fatal(err)
	}
	if want := "deployment.apps/web\nREVISION  CHANGE-CAUSE\n1         <none>\n2         <none>\n"; table.String() != want {
		t.Errorf("history table:\n%s\nwant:\n%s", table.String(), want)
	}

	msg, err := wc.client.RolloutUndo(ctxT(t), "default", "web", 0)
	if err != nil || msg != "deployment.apps/web rolled back" {
		t.Fatalf("undo: %q, %v", msg, err)
	}
	wc.mustRollOut(t)
	d, err := wc.client.Get(ctxT(t), client.DeploymentsGVR, "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	if ann, _, _ := unstructured.NestedStringMap(d.Object, "spec", "template", "metadata", "annotations"); ann[client.RestartedAtAnnotation] != "" {
		t.Errorf("undo kept the restartedAt annotation: %v", ann)
	}
	revs2 := wc.history(t)
	if len(revs2) != 2 || revs2[0].Number != 2 || revs2[1].Number != 3 || revs2[1].ReplicaSet != revs[0].ReplicaSet {
		t.Fatalf("history after undo: %+v (before: %+v)", revs2, revs)
	}
	if msg, err := wc.client.RolloutUndo(ctxT(t), "default", "web", 3); err != nil || !strings.Contains(msg, "skipped rollback") {
		t.Errorf("undo to the current revision: %q, %v", msg, err)
	}
	if _, err := wc.client.RolloutUndo(ctxT(t), "default", "web", 99); err == nil || !strings.Contains(err.Error(), "unable to find specified revision 99") {
		t.Errorf("undo to a missing revision: %v", err)
	}
}

// TestE2ERolloutProgressDeadline: with no pod ever ready, the controller
// reports ProgressDeadlineExceeded after progressDeadlineSeconds and
// rollout status fails with it rather than waiting on.
func TestE2ERolloutProgressDeadline(t *testing.T) {
	wc := newWorkloadCluster(t)
	apply(t, wc.client, strings.Replace(rolloutDeployment, "  replicas: 2\n", "  replicas: 2\n  progressDeadlineSeconds: 1\n", 1),
		client.NamespaceOptions{Namespace: "default"})
	out, err := wc.status(t, 30*time.Second)
	if !errors.Is(err, client.ErrProgressDeadline) || !strings.Contains(err.Error(), "has timed out progressing") {
		t.Fatalf("status of a stuck rollout: %v\n%s", err, out)
	}
}
