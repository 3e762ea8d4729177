package nodee2e

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

const accTaint = "weir.test/acceptance"

// testUnschedulable: a pod asking for more CPU than any node has, and a
// pod not tolerating a taint on both nodes, report PodScheduled=False,
// Unschedulable, naming the cause; when an untainted node joins, the
// second one is scheduled there and runs.
func testUnschedulable(t *testing.T, a *acc) {
	big := accPod("acc-big")
	big.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU] = resource.MustParse("1000")
	a.createTyped(t, gvrPods, big)
	msg := a.waitUnschedulable(t, "acc-big", "Insufficient cpu")
	t.Logf("acc-big: %s", msg)
	a.deleteAndWait(t, gvrPods, "acc-big", "app=acc-big")

	tainted := a.nodes[:2]
	for _, n := range tainted {
		a.setTaint(t, n.name, true)
	}
	t.Cleanup(func() { // a failed run must not leave the nodes tainted for the next scenario
		for _, n := range tainted {
			a.setTaint(t, n.name, false)
		}
	})
	a.createTyped(t, gvrPods, accPod("acc-tainted"))
	msg = a.waitUnschedulable(t, "acc-tainted", accTaint)
	t.Logf("acc-tainted: %s", msg)
	// A fitting (untainted) node joins: the pod is scheduled there.
	joined := time.Now()
	n3 := a.spare
	a.startPodAgent(a.top, n3, a.sock) // the agent lives on for AgentKill: owned by the parent test
	a.nodes = append(a.nodes, n3)
	var pods []corev1.Pod
	waitDetail(t, "acc-tainted Running and Ready on the new node "+n3.name, 60*time.Second, func() bool {
		pods = a.podsBy(t, "app=acc-tainted")
		return len(pods) == 1 && podIsReady(&pods[0]) && pods[0].Spec.NodeName == n3.name
	}, func() string { return podSummary(pods) })
	t.Logf("node %s joined -> acc-tainted Ready there in %v", n3.name, time.Since(joined).Round(time.Millisecond))
	for _, n := range tainted {
		a.setTaint(t, n.name, false)
	}
	a.deleteAndWait(t, gvrPods, "acc-tainted", "app=acc-tainted")
}

// accPod is a bare pod of the test server labelled app=name.
func accPod(name string) *corev1.Pod {
	tpl := webPod(map[string]string{"app": name})
	return &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: tpl.Labels}, Spec: tpl.Spec}
}

// waitUnschedulable waits for PodScheduled=False, reason Unschedulable,
// with a message containing want, and returns the message.
func (a *acc) waitUnschedulable(t *testing.T, name, want string) string {
	t.Helper()
	var pods []corev1.Pod
	var msg string
	waitDetail(t, name+" PodScheduled=False Unschedulable naming "+want, 30*time.Second, func() bool {
		pods = a.podsBy(t, "app="+name)
		if len(pods) != 1 {
			return false
		}
		for _, c := range pods[0].Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
				msg = c.Message
				return strings.Contains(c.Message, want)
			}
		}
		return false
	}, func() string { return podSummary(pods) })
	if pods[0].Spec.NodeName != "" {
		t.Errorf("unschedulable pod %s is bound to %s", name, pods[0].Spec.NodeName)
	}
	return msg
}

// setTaint adds (on) or removes the test's NoSchedule taint on a Node.
func (a *acc) setTaint(t *testing.T, node string, on bool) {
	t.Helper()
	a.modify(t, gvrNodes, "", node, func(o *unstructured.Unstructured) error {
		taints, _, _ := unstructured.NestedSlice(o.Object, "spec", "taints")
		out := []any{}
		for _, tt := range taints {
			if m, _ := tt.(map[string]any); m["key"] != accTaint {
				out = append(out, tt)
			}
		}
		if on {
			out = append(out, map[string]any{"key": accTaint, "value": "yes", "effect": "NoSchedule"})
		}
		return unstructured.SetNestedSlice(o.Object, out, "spec", "taints")
	})
}
