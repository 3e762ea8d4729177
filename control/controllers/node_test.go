package controllers_test

import (
	"fmt"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/controllers"
)

// TestNodeLifecycle: a node whose heartbeats stop turns Ready=Unknown,
// gets the unreachable taints, and its pods are evicted after the
// (shortened) eviction timeout, except a pod tolerating the taint forever.
func TestNodeLifecycle(t *testing.T) {
	c := start(t)
	n := &corev1.Node{TypeMeta: metav1.TypeMeta{Kind: "Node", APIVersion: "v1"}, ObjectMeta: metav1.ObjectMeta{Name: "node-a"}}
	if err := into(n)(c.CoreV1().Nodes().Create(bg, n, metav1.CreateOptions{})); err != nil {
		t.Fatal(err)
	}
	n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
		LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now()}}
	if err := into(n)(c.CoreV1().Nodes().UpdateStatus(bg, n, metav1.UpdateOptions{})); err != nil {
		t.Fatal(err)
	}
	grace := int64(1) // the eviction is graceful; with the node gone, the pod is force-deleted after deletionTimestamp + 1 s
	for _, name := range []string{"evicted", "tolerant"} {
		p := &corev1.Pod{TypeMeta: metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
			Spec:       corev1.PodSpec{NodeName: "node-a", TerminationGracePeriodSeconds: &grace, Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
		if name == "tolerant" {
			p.Spec.Tolerations = []corev1.Toleration{{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute}}
		}
		if err := into(p)(c.CoreV1().Pods("default").Create(bg, p, metav1.CreateOptions{})); err != nil {
			t.Fatal(err)
		}
		p.Status = corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}
		if err := discard(c.CoreV1().Pods("default").UpdateStatus(bg, p, metav1.UpdateOptions{})); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	eventually(t, func() string {
		var got corev1.Node
		if err := into(&got)(c.CoreV1().Nodes().Get(bg, "node-a", metav1.GetOptions{})); err != nil {
			return err.Error()
		}
		var ready corev1.ConditionStatus
		for _, cond := range got.Status.Conditions {
			if cond.Type == corev1.NodeReady {
				ready = cond.Status
			}
		}
		taints := map[corev1.TaintEffect]bool{}
		for _, tt := range got.Spec.Taints {
			if tt.Key == corev1.TaintNodeUnreachable {
				taints[tt.Effect] = true
			}
		}
		if ready != corev1.ConditionUnknown || !taints[corev1.TaintEffectNoExecute] || !taints[corev1.TaintEffectNoSchedule] {
			return fmt.Sprintf("ready %q taints %+v", ready, got.Spec.Taints)
		}
		return ""
	})
	if el := time.Since(start); el < time.Second {
		t.Fatalf("node turned Unknown after %v, before its 2s grace period", el)
	}
	eventually(t, func() string {
		var p corev1.Pod
		if err := into(&p)(c.CoreV1().Pods("default").Get(bg, "tolerant", metav1.GetOptions{})); err != nil {
			return err.Error()
		}
		for _, cond := range p.Status.Conditions {
			if cond.Type == corev1.PodReady && (cond.Status != corev1.ConditionFalse || cond.Reason != "NodeNotReady") {
				return fmt.Sprintf("pod on the Unknown node: Ready %s (%s), want False (NodeNotReady)", cond.Status, cond.Reason)
			}
		}
		return ""
	})
	eventually(t, func() string {
		pods := listPods(t, c, "default")
		if len(pods) != 1 || pods[0].Name != "tolerant" {
			var names []string
			for _, p := range pods {
				names = append(names, p.Name)
			}
			return fmt.Sprintf("pods %v, want only tolerant", names)
		}
		return ""
	})
	eventually(t, func() string { return findEvent(c, "default", "evicted", "TaintManagerEviction") })
}

// TestNodeLeaseKeepsNodeReady: the Ready condition is written on change
// only, so a node whose condition's heartbeat is far past the grace
// period stays Ready while its Lease in kube-node-lease is renewed, and
// turns Unknown (tainted unreachable) once the renewals stop.
func TestNodeLeaseKeepsNodeReady(t *testing.T) {
	c := start(t)
	old := metav1.NewTime(time.Now().Add(-time.Hour))
	n := &corev1.Node{TypeMeta: metav1.TypeMeta{Kind: "Node", APIVersion: "v1"}, ObjectMeta: metav1.ObjectMeta{Name: "leased"}}
	if err := into(n)(c.CoreV1().Nodes().Create(bg, n, metav1.CreateOptions{})); err != nil {
		t.Fatal(err)
	}
	n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
		LastHeartbeatTime: old, LastTransitionTime: old}}
	if err := into(n)(c.CoreV1().Nodes().UpdateStatus(bg, n, metav1.UpdateOptions{})); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CoreV1().Namespaces().Get(bg, controllers.NodeLeaseNamespace, metav1.GetOptions{}); err != nil {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: controllers.NodeLeaseNamespace}}
		if _, err := c.CoreV1().Namespaces().Create(bg, ns, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	holder, dur := "leased", int32(40)
	now := metav1.NowMicro()
	lease, err := c.CoordinationV1().Leases(controllers.NodeLeaseNamespace).Create(bg, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "leased"},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &dur, RenewTime: &now}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ready := func() corev1.ConditionStatus {
		got, err := c.CoreV1().Nodes().Get(bg, "leased", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, cond := range got.Status.Conditions {
			if cond.Type == corev1.NodeReady {
				return cond.Status
			}
		}
		return ""
	}
	for end := time.Now().Add(4 * time.Second); time.Now().Before(end); time.Sleep(300 * time.Millisecond) {
		now := metav1.NowMicro()
		lease.Spec.RenewTime = &now
		if lease, err = c.CoordinationV1().Leases(controllers.NodeLeaseNamespace).Update(bg, lease, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		if st := ready(); st != corev1.ConditionTrue {
			t.Fatalf("Ready %q while the lease is renewed, want True", st)
		}
	}
	stopped := time.Now()
	eventually(t, func() string {
		if st := ready(); st != corev1.ConditionUnknown {
			return fmt.Sprintf("Ready %q after the lease stopped, want Unknown", st)
		}
		return ""
	})
	if el := time.Since(stopped); el < time.Second {
		t.Errorf("Unknown %v after the last renewal, before the 2s grace period", el)
	}
}
