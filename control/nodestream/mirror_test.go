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

func mirrorPod(name, node, uid string) *corev1.Pod {
	p := pod(name, node)
	p.UID = types.UID(uid)
	p.Annotations = map[string]string{AnnotationConfigMirror: "hash-" + uid, "kubernetes.io/config.source": "file"}
	p.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "192.0.2.1"}
	return p
}

func (a *agent) sendMirror(p *corev1.Pod, deleted bool) {
	a.t.Helper()
	m := &pb.MirrorPod{Namespace: p.Namespace, Name: p.Name, Deleted: deleted}
	if !deleted {
		m.PodJson, _ = json.Marshal(p)
	}
	if err := a.stream.Send(&pb.AgentMessage{Msg: &pb.AgentMessage_MirrorPod{MirrorPod: m}}); err != nil {
		a.t.Fatal(err)
	}
}

func (e *env) storedPod(name string) (*corev1.Pod, uint64) {
	e.t.Helper()
	o, err := e.st.Get(context.Background(), store.Key{Resource: resPods, Namespace: "default", Name: name}, store.ReadOptions{})
	if errors.Is(err, store.ErrNotFound) {
		return nil, 0
	}
	if err != nil {
		e.t.Fatal(err)
	}
	p := &corev1.Pod{}
	if err := json.Unmarshal(o.Value, p); err != nil {
		e.t.Fatal(err)
	}
	return p, o.Revision
}

// TestMirrorPods: an agent creates, refreshes, replaces and deletes the
// mirrors of its static pods; mirrors keep the static pod's UID; writes
// about other nodes' pods, non-mirror pods or missing namespaces are
// rejected.
func TestMirrorPods(t *testing.T) {
	e := newEnv(t, nil)
	e.register("a", "192.0.2.1")
	e.put("namespaces", "", "default", &corev1.Namespace{TypeMeta: metav1.TypeMeta{Kind: "Namespace", APIVersion: "v1"}, ObjectMeta: metav1.ObjectMeta{Name: "default"}})
	e.put(resPods, "default", "plain", pod("plain", "a"))
	ag := e.watch("a", nil)
	ag.snapshots()

	// Rejected: another node's mirror, no annotation, a regular pod's
	// name, a namespace that does not exist. Then a good one.
	ag.sendMirror(mirrorPod("other", "b", "u-other"), false)
	bare := mirrorPod("bare", "a", "u-bare")
	bare.Annotations = nil
	ag.sendMirror(bare, false)
	ag.sendMirror(mirrorPod("plain", "a", "u-plain"), false)
	ag.sendMirror(mirrorPod("plain", "a", ""), true)
	nons := mirrorPod("nons", "a", "u-nons")
	nons.Namespace = "nowhere"
	ag.sendMirror(nons, false)
	ag.sendMirror(mirrorPod("web-a", "a", "u-1"), false)
	eventually(t, "mirror web-a", func() bool { p, _ := e.storedPod("web-a"); return p != nil })
	for _, name := range []string{"other", "bare", "nons"} {
		if p, _ := e.storedPod(name); p != nil {
			t.Errorf("mirror %s was stored: %+v", name, p.ObjectMeta)
		}
	}
	if p, _ := e.storedPod("plain"); p == nil || p.UID != "" || p.Annotations[AnnotationConfigMirror] != "" {
		t.Errorf("a regular pod was replaced or deleted by a mirror write: %+v", p)
	}
	p, rev := e.storedPod("web-a")
	if p.UID != "u-1" || p.Status.Phase != corev1.PodRunning || len(p.OwnerReferences) != 1 || p.OwnerReferences[0].Kind != "Node" || p.OwnerReferences[0].UID != e.node("a").UID {
		t.Fatalf("mirror %+v status %+v: want uid u-1, Running, owned by node a", p.ObjectMeta, p.Status)
	}

	// Resent unchanged (a reconnect): no write.
	ag.sendMirror(mirrorPod("web-a", "a", "u-1"), false)
	ag.sendMirror(mirrorPod("marker", "a", "u-m"), false)
	eventually(t, "marker", func() bool { p, _ := e.storedPod("marker"); return p != nil })
	if _, r := e.storedPod("web-a"); r != rev {
		t.Errorf("an unchanged mirror was rewritten: revision %d -> %d", rev, r)
	}

	// Deleted through the API (graceful: deletionTimestamp set): the
	// agent's next send replaces it with a fresh mirror of the same UID.
	now := metav1.Now()
	p.DeletionTimestamp = &now
	e.put(resPods, "default", "web-a", p)
	ag.sendMirror(mirrorPod("web-a", "a", "u-1"), false)
	eventually(t, "fresh mirror", func() bool {
		p, _ := e.storedPod("web-a")
		return p != nil && p.DeletionTimestamp == nil
	})
	if p, _ := e.storedPod("web-a"); p.UID != "u-1" {
		t.Errorf("recreated mirror uid %q, want u-1", p.UID)
	}

	// A changed static pod (new UID) replaces the mirror; removed, it goes.
	ag.sendMirror(mirrorPod("web-a", "a", "u-2"), false)
	eventually(t, "mirror with uid u-2", func() bool { p, _ := e.storedPod("web-a"); return p != nil && p.UID == "u-2" })
	ag.sendMirror(mirrorPod("web-a", "a", ""), true)
	eventually(t, "mirror deleted", func() bool { p, _ := e.storedPod("web-a"); return p == nil })
}
