package nodestream

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/weirnet/weir/control/store"
	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

// TestPodReportsByUIDAndRemoval: a report applies only to the pod with its
// UID; a removed report deletes a terminating pod of this node, and is
// ignored for a pod that is not being deleted (another node's pod:
// TestNodeCannotActForAnother).
func TestPodReportsByUIDAndRemoval(t *testing.T) {
	e := newEnv(t, nil)
	e.register("a", "192.0.2.1")
	now := metav1.Now()
	mk := func(name, node, uid string, deleting bool) {
		p := pod(name, node)
		p.UID = types.UID(uid)
		if deleting {
			p.DeletionTimestamp = &now
		}
		e.put(resPods, "default", name, p)
	}
	mk("run", "a", "u-run", false)
	mk("term", "a", "u-term", true)
	ag := e.watch("a", nil)
	ag.snapshots()
	send := func(name, uid string, phase corev1.PodPhase, removed bool) {
		t.Helper()
		st, _ := json.Marshal(corev1.PodStatus{Phase: phase})
		if err := ag.stream.Send(&pb.AgentMessage{Msg: &pb.AgentMessage_PodStatus{PodStatus: &pb.PodStatus{
			Namespace: "default", Name: name, StatusJson: st, Uid: uid, Removed: removed}}}); err != nil {
			t.Fatal(err)
		}
	}
	get := func(name string) (*corev1.Pod, bool) {
		o, err := e.st.Get(context.Background(), store.Key{Resource: resPods, Namespace: "default", Name: name}, store.ReadOptions{})
		if errors.Is(err, store.ErrNotFound) {
			return nil, false
		}
		if err != nil {
			t.Fatal(err)
		}
		var p corev1.Pod
		if err := json.Unmarshal(o.Value, &p); err != nil {
			t.Fatal(err)
		}
		return &p, true
	}

	send("run", "u-run", corev1.PodRunning, false)
	send("run", "u-old", corev1.PodFailed, false)    // another pod of the same name
	send("run", "u-run", corev1.PodRunning, true)    // removed, but not being deleted
	send("term", "u-old", corev1.PodRunning, true)   // removal of another pod
	send("term", "u-term", corev1.PodRunning, false) // reports are applied in order: this one last
	eventually(t, "term Running", func() bool { p, ok := get("term"); return ok && p.Status.Phase == corev1.PodRunning })
	if p, ok := get("run"); !ok || p.Status.Phase != corev1.PodRunning {
		t.Fatalf("pod run: present %v, %+v; want Running (a report for another UID applied, or a removal without deletionTimestamp?)", ok, p)
	}

	send("term", "u-term", corev1.PodSucceeded, true)
	eventually(t, "term deleted", func() bool { _, ok := get("term"); return !ok })
	if _, ok := get("run"); !ok {
		t.Fatal("a removed report deleted a pod without deletionTimestamp")
	}
	// The deletion reaches the node's pod stream.
	for {
		m := ag.next(pb.Kind_KIND_PODS)
		if len(m.Resources) == 1 && m.Resources[0].Name == "term" && m.Resources[0].Deleted {
			break
		}
	}
}
