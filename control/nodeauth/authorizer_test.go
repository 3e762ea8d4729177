package nodeauth

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/weirnet/weir/control/store"
	"github.com/weirnet/weir/control/store/storetest"
)

func putPod(t *testing.T, st store.Interface, p *corev1.Pod) {
	t.Helper()
	val, _ := json.Marshal(p)
	if _, err := st.Txn(context.Background(), store.Txn{ID: store.NewRequestID(), Ops: []store.Op{{Kind: store.Put,
		Key: store.Key{Resource: "pods", Namespace: p.Namespace, Name: p.Name}, Value: val}}}); err != nil {
		t.Fatal(err)
	}
}

func delPod(t *testing.T, st store.Interface, ns, name string) {
	t.Helper()
	if _, err := st.Txn(context.Background(), store.Txn{ID: store.NewRequestID(), Ops: []store.Op{{Kind: store.Delete,
		Key: store.Key{Resource: "pods", Namespace: ns, Name: name}}}}); err != nil {
		t.Fatal(err)
	}
}

func podUsing(name, node string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"}, Spec: corev1.PodSpec{
		NodeName: node, ServiceAccountName: "sa-" + name, ImagePullSecrets: []corev1.LocalObjectReference{{Name: "pull-" + name}},
		Volumes: []corev1.Volume{
			{Name: "s", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "vol-" + name}}},
			{Name: "c", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cm-" + name}}}},
			{Name: "p", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "pvc-" + name}}},
			{Name: "j", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "proj-" + name}}}}}}},
		},
		Containers: []corev1.Container{{Name: "c", Env: []corev1.EnvVar{{Name: "E", ValueFrom: &corev1.EnvVarSource{
			SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "env-" + name}, Key: "k"}}}},
			EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "envfrom-" + name}}}}}},
	}}
}

// TestNodeAuthorizer: a node reads what its pods reference and nothing
// else, writes its own Node and pods' status, lists pods only by its
// node name; the graph follows pod creations, rebinds and deletions from
// the store's watch; other users get NoOpinion.
func TestNodeAuthorizer(t *testing.T) {
	st := storetest.New(t)
	putPod(t, st, podUsing("p1", "node-a"))
	putPod(t, st, podUsing("p2", "node-b"))
	putPod(t, st, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "pending", Namespace: "ns"}, Spec: corev1.PodSpec{
		Volumes: []corev1.Volume{{Name: "s", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "unbound"}}}}}})
	g := NewGraph(st, storetest.Logger())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); g.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-g.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("graph not loaded")
	}
	az := New(g)
	nodeA := &user.DefaultInfo{Name: "system:node:node-a", Groups: []string{"system:nodes", "system:authenticated"}}
	type rq struct {
		verb, group, res, sub, ns, name, fieldSel string
	}
	decide := func(u user.Info, r rq) authorizer.Decision {
		attrs := authorizer.AttributesRecord{User: u, Verb: r.verb, APIGroup: r.group, Resource: r.res, Subresource: r.sub,
			Namespace: r.ns, Name: r.name, ResourceRequest: true}
		if r.fieldSel != "" {
			sel, err := fields.ParseSelector(r.fieldSel)
			if err != nil {
				t.Fatal(err)
			}
			attrs.FieldSelectorRequirements = sel.Requirements()
		}
		d, _, err := az.Authorize(context.Background(), attrs)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	allowed := []rq{
		{"get", "", "secrets", "", "ns", "vol-p1", ""},
		{"get", "", "secrets", "", "ns", "env-p1", ""},
		{"get", "", "secrets", "", "ns", "pull-p1", ""},
		{"get", "", "secrets", "", "ns", "proj-p1", ""},
		{"watch", "", "secrets", "", "ns", "vol-p1", ""},
		{"get", "", "configmaps", "", "ns", "cm-p1", ""},
		{"get", "", "configmaps", "", "ns", "envfrom-p1", ""},
		{"get", "", "persistentvolumeclaims", "", "ns", "pvc-p1", ""},
		{"get", "", "serviceaccounts", "", "ns", "sa-p1", ""},
		{"create", "", "serviceaccounts", "token", "ns", "sa-p1", ""},
		{"get", "", "nodes", "", "", "node-a", ""},
		{"list", "", "nodes", "", "", "", ""},
		{"update", "", "nodes", "status", "", "node-a", ""},
		{"patch", "", "nodes", "", "", "node-a", ""},
		{"get", "", "pods", "", "ns", "p1", ""},
		{"patch", "", "pods", "status", "ns", "p1", ""},
		{"list", "", "pods", "", "", "", "spec.nodeName=node-a"},
		{"watch", "", "pods", "", "", "", "spec.nodeName=node-a"},
		{"list", "", "services", "", "", "", ""},
		{"watch", "discovery.k8s.io", "endpointslices", "", "", "", ""},
		{"create", "", "events", "", "ns", "", ""},
		{"update", "coordination.k8s.io", "leases", "", "kube-node-lease", "node-a", ""},
	}
	denied := []rq{
		{"get", "", "secrets", "", "ns", "vol-p2", ""},    // node-b's pod's
		{"get", "", "secrets", "", "ns", "unbound", ""},   // an unscheduled pod's
		{"get", "", "secrets", "", "other", "vol-p1", ""}, // same name, other namespace
		{"list", "", "secrets", "", "ns", "", ""},
		{"update", "", "secrets", "", "ns", "vol-p1", ""},
		{"delete", "", "configmaps", "", "ns", "cm-p1", ""},
		{"get", "", "configmaps", "", "ns", "cm-p2", ""},
		{"update", "", "nodes", "status", "", "node-b", ""},
		{"delete", "", "nodes", "", "", "node-b", ""},
		{"get", "", "pods", "", "ns", "p2", ""},
		{"update", "", "pods", "status", "ns", "p2", ""},
		{"list", "", "pods", "", "", "", ""},
		{"list", "", "pods", "", "", "", "spec.nodeName=node-b"},
		{"create", "", "pods", "exec", "ns", "p1", ""},
		{"create", "", "serviceaccounts", "token", "ns", "sa-p2", ""},
		{"list", "rbac.authorization.k8s.io", "clusterroles", "", "", "", ""},
		{"update", "coordination.k8s.io", "leases", "", "kube-node-lease", "node-b", ""},
	}
	for _, r := range allowed {
		if d := decide(nodeA, r); d != authorizer.DecisionAllow {
			t.Errorf("node-a %v: %v, want Allow", r, d)
		}
	}
	for _, r := range denied {
		if d := decide(nodeA, r); d == authorizer.DecisionAllow {
			t.Errorf("node-a %v: Allow, want NoOpinion", r)
		}
	}
	// Not a node: no opinion, whatever the name says.
	for _, u := range []user.Info{
		&user.DefaultInfo{Name: "system:node:node-a", Groups: []string{"system:authenticated"}},
		&user.DefaultInfo{Name: "alice", Groups: []string{"system:nodes"}},
	} {
		if d := decide(u, rq{"get", "", "secrets", "", "ns", "vol-p1", ""}); d != authorizer.DecisionNoOpinion {
			t.Errorf("%s: %v, want NoOpinion", u.GetName(), d)
		}
	}
	// The graph follows the store: p2 moves to node-a (recreated), p1 goes.
	delPod(t, st, "ns", "p1")
	putPod(t, st, podUsing("p2", "node-a"))
	eventually := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	eventually("node-a gains p2's secret", func() bool {
		return decide(nodeA, rq{"get", "", "secrets", "", "ns", "vol-p2", ""}) == authorizer.DecisionAllow
	})
	eventually("node-a loses p1's secret", func() bool {
		return decide(nodeA, rq{"get", "", "secrets", "", "ns", "vol-p1", ""}) != authorizer.DecisionAllow
	})
	nodeB := &user.DefaultInfo{Name: "system:node:node-b", Groups: []string{"system:nodes"}}
	if d := decide(nodeB, rq{"get", "", "secrets", "", "ns", "vol-p2", ""}); d == authorizer.DecisionAllow {
		t.Error("node-b still reads p2's secret after p2 moved")
	}
}

func putClaim(t *testing.T, st store.Interface, ns, name, volume string) {
	t.Helper()
	val, _ := json.Marshal(&corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.PersistentVolumeClaimSpec{VolumeName: volume}})
	if _, err := st.Txn(context.Background(), store.Txn{ID: store.NewRequestID(), Ops: []store.Op{{Kind: store.Put,
		Key: store.Key{Resource: "persistentvolumeclaims", Namespace: ns, Name: name}, Value: val}}}); err != nil {
		t.Fatal(err)
	}
}

// TestNodeAuthorizerVolumes: a node reads the PersistentVolume bound to
// a claim its pods use, by name, and no other; binding a claim later
// grants its volume.
func TestNodeAuthorizerVolumes(t *testing.T) {
	st := storetest.New(t)
	putPod(t, st, podUsing("p1", "node-a"))
	putPod(t, st, podUsing("p2", "node-b"))
	putClaim(t, st, "ns", "pvc-p1", "pv-1")
	putClaim(t, st, "ns", "pvc-p2", "pv-2")
	putClaim(t, st, "other", "pvc-p1", "pv-3") // same claim name, other namespace
	g := NewGraph(st, storetest.Logger())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); g.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	az := New(g)
	nodeA := &user.DefaultInfo{Name: "system:node:node-a", Groups: []string{"system:nodes"}}
	decide := func(verb, name string) authorizer.Decision {
		d, _, err := az.Authorize(context.Background(), authorizer.AttributesRecord{User: nodeA, Verb: verb,
			Resource: "persistentvolumes", Name: name, ResourceRequest: true})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for deadline := time.Now().Add(10 * time.Second); decide("get", "pv-1") != authorizer.DecisionAllow; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("node-a never allowed its claim's volume pv-1")
		}
	}
	if decide("watch", "pv-1") != authorizer.DecisionAllow {
		t.Error("watch pv-1 by name: want Allow")
	}
	for _, c := range []struct{ verb, name string }{{"get", "pv-2"}, {"get", "pv-3"}, {"list", ""}, {"update", "pv-1"}, {"delete", "pv-1"}} {
		if decide(c.verb, c.name) == authorizer.DecisionAllow {
			t.Errorf("%s %q: Allow, want NoOpinion", c.verb, c.name)
		}
	}
	// Local-path volumes: a node lists and watches its own by label and
	// updates them (to remove the cleanup finalizer), no other node's.
	for _, v := range []struct{ name, node string }{{"local-a", "node-a"}, {"local-b", "node-b"}} {
		val, _ := json.Marshal(&corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: v.name, Labels: map[string]string{LocalPathNodeLabel: v.node}}})
		if _, err := st.Txn(context.Background(), store.Txn{ID: store.NewRequestID(), Ops: []store.Op{{Kind: store.Put,
			Key: store.Key{Resource: "persistentvolumes", Name: v.name}, Value: val}}}); err != nil {
			t.Fatal(err)
		}
	}
	byLabel := func(verb, sel string) authorizer.Decision {
		s, err := labels.Parse(sel)
		if err != nil {
			t.Fatal(err)
		}
		reqs, _ := s.Requirements()
		d, _, _ := az.Authorize(context.Background(), authorizer.AttributesRecord{User: nodeA, Verb: verb,
			Resource: "persistentvolumes", ResourceRequest: true, LabelSelectorRequirements: reqs})
		return d
	}
	if byLabel("list", LocalPathNodeLabel+"=node-a") != authorizer.DecisionAllow || byLabel("watch", LocalPathNodeLabel+"=node-a") != authorizer.DecisionAllow {
		t.Error("node-a may not list/watch its local-path volumes")
	}
	if byLabel("list", LocalPathNodeLabel+"=node-b") == authorizer.DecisionAllow || byLabel("list", LocalPathNodeLabel+" in (node-a,node-b)") == authorizer.DecisionAllow {
		t.Error("node-a may list node-b's local-path volumes")
	}
	for deadline := time.Now().Add(10 * time.Second); decide("patch", "local-a") != authorizer.DecisionAllow; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("node-a may not patch its local-path volume")
		}
	}
	if decide("get", "local-a") != authorizer.DecisionAllow || decide("patch", "local-b") == authorizer.DecisionAllow || decide("delete", "local-a") == authorizer.DecisionAllow {
		t.Error("local-path volumes: node-a reads its own, patches only its own, deletes none")
	}
	putClaim(t, st, "ns", "pvc-p1", "pv-9") // rebound (a test of the watch, not a kube flow)
	for deadline := time.Now().Add(10 * time.Second); decide("get", "pv-9") != authorizer.DecisionAllow || decide("get", "pv-1") == authorizer.DecisionAllow; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the graph did not follow the claim's new volume")
		}
	}
}
