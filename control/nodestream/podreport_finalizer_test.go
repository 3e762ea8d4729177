package nodestream

import (
	"context"
	"encoding/json"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/store"
	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

// TestRemovedPodWithFinalizersStays: the agent's removal report does not
// delete a terminating pod that still has finalizers; it only ends the
// grace (deletionGracePeriodSeconds 0), so that the API deletes the pod
// when its last finalizer is removed.
func TestRemovedPodWithFinalizersStays(t *testing.T) {
	e := newEnv(t, nil)
	e.register("a", "192.0.2.1")
	now := metav1.Now()
	grace := int64(30)
	p := pod("fin", "a")
	p.UID = "u-fin"
	p.DeletionTimestamp = &now
	p.DeletionGracePeriodSeconds = &grace
	p.Finalizers = []string{"example.com/keep"}
	e.put(resPods, "default", "fin", p)
	ag := e.watch("a", nil)
	ag.snapshots()
	st, _ := json.Marshal(corev1.PodStatus{Phase: corev1.PodSucceeded})
	if err := ag.stream.Send(&pb.AgentMessage{Msg: &pb.AgentMessage_PodStatus{PodStatus: &pb.PodStatus{
		Namespace: "default", Name: "fin", StatusJson: st, Uid: "u-fin", Removed: true}}}); err != nil {
		t.Fatal(err)
	}
	key := store.Key{Resource: resPods, Namespace: "default", Name: "fin"}
	var got corev1.Pod
	eventually(t, "grace 0", func() bool {
		o, err := e.st.Get(context.Background(), key, store.ReadOptions{})
		if err != nil {
			t.Fatalf("the removed pod with a finalizer is gone: %v", err)
		}
		got = corev1.Pod{}
		if err := json.Unmarshal(o.Value, &got); err != nil {
			t.Fatal(err)
		}
		return got.DeletionGracePeriodSeconds != nil && *got.DeletionGracePeriodSeconds == 0
	})
	if got.DeletionTimestamp == nil || len(got.Finalizers) != 1 {
		t.Fatalf("pod lost its deletionTimestamp (%v) or finalizers (%v)", got.DeletionTimestamp, got.Finalizers)
	}
}
