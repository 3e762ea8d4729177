package client_test

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/weirnet/weir/control/client"
)

// TestE2EScale scales a Deployment and a ReplicaSet through the scale
// subresource; a --current-replicas precondition that does not hold fails
// and changes nothing.
func TestE2EScale(t *testing.T) {
	wc := newWorkloadCluster(t)
	wc.kubeletOn.Store(true)
	apply(t, wc.client, rolloutDeployment, client.NamespaceOptions{Namespace: "default"})
	c, ctx := wc.client, ctxT(t)
	web := client.WorkloadRef{GVR: client.DeploymentsGVR, Name: "web"}
	two := int32(2)
	if err := c.Scale(ctx, "default", web, client.ScaleOptions{Replicas: 3, CurrentReplicas: &two}); err != nil {
		t.Fatal(err)
	}
	out := wc.mustRollOut(t)
	d, err := c.Get(ctx, client.DeploymentsGVR, "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	if n, _, _ := unstructured.NestedInt64(d.Object, "status", "availableReplicas"); n != 3 {
		t.Fatalf("available replicas after scale to 3: %d\n%s", n, out)
	}
	five := int32(5)
	err = c.Scale(ctx, "default", web, client.ScaleOptions{Replicas: 1, CurrentReplicas: &five})
	if err == nil || !strings.Contains(err.Error(), "expected deployment.apps/web to have 5 replicas, it has 3") {
		t.Fatalf("precondition 5 on 3 replicas: %v", err)
	}
	if sc, err := c.GetScale(ctx, "default", web); err != nil || sc.Spec.Replicas != 3 {
		t.Fatalf("after a failed precondition: %+v, %v", sc, err)
	}
	if err := c.Scale(ctx, "default", web, client.ScaleOptions{Replicas: -1}); err == nil {
		t.Error("scale to -1 succeeded")
	}
	if err := c.Scale(ctx, "default", client.WorkloadRef{GVR: client.DeploymentsGVR, Name: "nope"}, client.ScaleOptions{Replicas: 1}); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("scale a missing deployment: %v", err)
	}

	_, revs, err := c.RolloutHistory(ctx, "default", "web")
	if err != nil || len(revs) != 1 {
		t.Fatalf("history: %+v, %v", revs, err)
	}
	// The Deployment's controller owns its ReplicaSet's replicas (it puts
	// them back at once), so the ReplicaSet scaled is one of its own.
	apply(t, c, `apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: solo}
spec:
  replicas: 1
  selector: {matchLabels: {app: solo}}
  template:
    metadata: {labels: {app: solo}}
    spec: {containers: [{name: c, image: "weir-test:1"}]}
`, client.NamespaceOptions{Namespace: "default"})
	rs := client.WorkloadRef{GVR: client.ReplicaSetsGVR, Name: "solo"}
	if err := c.Scale(ctx, "default", rs, client.ScaleOptions{Replicas: 7}); err != nil {
		t.Fatal(err)
	}
	if sc, err := c.GetScale(ctx, "default", rs); err != nil || sc.Spec.Replicas != 7 {
		t.Fatalf("replicaset scale: %+v, %v", sc, err)
	}
}
