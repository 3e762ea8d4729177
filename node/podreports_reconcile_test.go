package node

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/weirnet/weir/node/runtime"
)

// TestReconcileResendsContradictedStatus: a sent status that the API's
// copy contradicts (a controller marked the pod not ready) is sent again;
// one the API agrees with, another pod's (other UID) and a removed pod's
// are not.
func TestReconcileResendsContradictedStatus(t *testing.T) {
	r := newPodReports()
	ready := corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.244.0.5",
		Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()}}}
	r.report(runtime.PodReport{Namespace: "default", Name: "a", UID: "ua", Status: ready})
	r.report(runtime.PodReport{Namespace: "default", Name: "b", UID: "ub", Status: ready})
	for _, p := range r.unsent() {
		r.markSent(p)
	}
	if n := len(r.unsent()); n != 0 {
		t.Fatalf("%d unsent after markSent", n)
	}
	api := func(name string, uid types.UID, st corev1.PodStatus) corev1.Pod {
		return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, UID: uid}, Status: st}
	}
	same := *ready.DeepCopy()
	same.Conditions[0].LastTransitionTime = metav1.NewTime(same.Conditions[0].LastTransitionTime.Truncate(1e9)) // JSON precision
	notReady := *ready.DeepCopy()
	notReady.Conditions[0].Status, notReady.Conditions[0].Reason = corev1.ConditionFalse, "NodeNotReady"

	r.reconcile([]corev1.Pod{api("a", "ua", same), api("b", "other", notReady)})
	if n := len(r.unsent()); n != 0 {
		t.Fatalf("agreeing or other-UID copies made %d statuses unsent", n)
	}
	r.reconcile([]corev1.Pod{api("a", "ua", notReady)})
	got := r.unsent()
	if len(got) != 1 || got[0].name != "a" || got[0].status.Conditions[0].Status != corev1.ConditionTrue {
		t.Fatalf("unsent after a contradicting copy: %+v, want pod a's Ready status", got)
	}
	select {
	case <-r.wake:
	default:
		t.Error("reconcile did not wake the sender")
	}
}
