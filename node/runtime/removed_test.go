package runtime

import (
	"testing"
	"time"

	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/weirnet/weir/node/runtime/testimage"
	"github.com/weirnet/weir/tests/testutil"
)

// TestPodRemovedReports: a pod deleted before it ran, and a pod deleted
// after its containers completed, are both reported removed with their
// UID; a completed pod is not run again by a later Sync.
func TestPodRemovedReports(t *testing.T) {
	testutil.RequirePrivileged(t)
	n := newTestNode(t)
	now := metav1.Now()

	early := testPod("early", types.UID(uuid.NewString()))
	early.DeletionTimestamp = &now
	n.rt.Sync([]corev1.Pod{early})
	waitFor(t, "early pod reported removed", 20*time.Second, func() bool { return n.rep.removedUID("default/early") == early.UID })
	if st := n.rep.get("default/early"); st.PodIP != "" {
		t.Errorf("a pod deleted before it ran got a network: %+v", st)
	}

	done := testPod("done", types.UID(uuid.NewString()))
	done.Spec.RestartPolicy = corev1.RestartPolicyNever
	done.Spec.Containers[0].Command = []string{"/bin/true"}
	done.Spec.Containers[0].Args = nil
	n.rt.Sync([]corev1.Pod{done})
	waitFor(t, "pod Succeeded", 60*time.Second, func() bool { return n.rep.get("default/done").Phase == corev1.PodSucceeded })
	waitFor(t, "worker ended", 30*time.Second, func() bool { return n.rt.Pods() == 0 })
	if uid := n.rep.removedUID("default/done"); uid != "" {
		t.Fatalf("a completed pod that was not deleted was reported removed")
	}
	n.rt.Sync([]corev1.Pod{done})
	time.Sleep(500 * time.Millisecond)
	if n.rt.Pods() != 0 || n.rep.get("default/done").Phase != corev1.PodSucceeded {
		t.Fatalf("a completed pod was run again: %d workers, phase %s", n.rt.Pods(), n.rep.get("default/done").Phase)
	}
	done.DeletionTimestamp = &now
	n.rt.Sync([]corev1.Pod{done})
	waitFor(t, "completed pod reported removed", 10*time.Second, func() bool { return n.rep.removedUID("default/done") == done.UID })
}

// TestShorterGraceBringsKillForward: a pod that ignores SIGTERM, deleted
// with a 60 s grace period, is SIGKILLed soon after a second delete
// shortens the grace to 1 s (as `kubectl delete --grace-period=1` does).
func TestShorterGraceBringsKillForward(t *testing.T) {
	testutil.RequirePrivileged(t)
	n := newTestNode(t)
	pod := testPod("stubborn", types.UID(uuid.NewString()))
	pod.Spec.Containers[0].Image = testimage.Name
	pod.Spec.Containers[0].Command = []string{"/bin/sh", "-c", `trap "" TERM; while true; do sleep 1; done`}
	pod.Spec.Containers[0].Args = nil
	n.rt.Sync([]corev1.Pod{pod})
	waitFor(t, "pod running", 60*time.Second, func() bool { return n.rep.get("default/stubborn").Phase == corev1.PodRunning })

	now, long, short := metav1.Now(), int64(60), int64(1)
	pod.DeletionTimestamp, pod.DeletionGracePeriodSeconds = &now, &long
	n.rt.Sync([]corev1.Pod{pod})
	time.Sleep(1500 * time.Millisecond)
	if uid := n.rep.removedUID("default/stubborn"); uid != "" {
		t.Fatal("a pod ignoring SIGTERM was removed before its 60 s grace period or a shorter one")
	}
	shortened := time.Now()
	pod.DeletionGracePeriodSeconds = &short
	n.rt.Sync([]corev1.Pod{pod})
	waitFor(t, "pod removed after the shorter grace", 20*time.Second, func() bool { return n.rep.removedUID("default/stubborn") == pod.UID })
	if d := time.Since(shortened); d < 900*time.Millisecond || d > 15*time.Second {
		t.Errorf("removed %v after the grace was shortened to 1 s", d.Round(time.Millisecond))
	}
}
