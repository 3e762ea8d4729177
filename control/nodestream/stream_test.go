package nodestream

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/weirnet/weir/control/store"
	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

func TestSnapshotThenDeltas(t *testing.T) {
	e := newEnv(t, nil)
	e.register("a", "192.0.2.1")
	rb := e.register("b", "192.0.2.2")
	e.put(resServices, "default", "web", service("web"))
	e.put(resPods, "default", "p-a", pod("p-a", "a"))
	e.put(resPods, "default", "p-b", pod("p-b", "b"))

	ag := e.watch("a", nil)
	ag.snapshots()
	if got := names(ag.objects[pb.Kind_KIND_SERVICES]); got != "1: default/web " {
		t.Errorf("services snapshot = %s", got)
	}
	if got := names(ag.objects[pb.Kind_KIND_PODS]); got != "1: default/p-a " {
		t.Errorf("pods snapshot = %s (pods of other nodes must not be sent)", got)
	}
	routes := ag.objects[pb.Kind_KIND_ROUTES]
	if r := routes["/b"]; len(routes) != 1 || r == nil || r.Route.PodCidr != rb.PodCidr || r.Route.NodeIp != "192.0.2.2" {
		t.Errorf("routes snapshot = %v, want only b's %s via 192.0.2.2", routes, rb.PodCidr)
	}

	rev := e.put(resSlices, "default", "web-1", slice("web-1", "10.244.1.5"))
	m := ag.next(pb.Kind_KIND_ENDPOINTSLICES)
	if m.Snapshot || m.Version != rev || len(m.Resources) != 1 || m.Resources[0].Name != "web-1" || m.Resources[0].Revision != rev {
		t.Errorf("slice delta = %v, want web-1 at version %d", m, rev)
	}
	e.del(resServices, "default", "web")
	if m := ag.next(pb.Kind_KIND_SERVICES); len(m.Resources) != 1 || !m.Resources[0].Deleted {
		t.Errorf("service delete delta = %v", m)
	}
	// A node write that leaves b's route alone (a heartbeat) sends nothing;
	// a new node sends its route.
	e.put(resPods, "default", "p-b2", pod("p-b2", "b"))
	rc := e.register("c", "192.0.2.3")
	m = ag.next(pb.Kind_KIND_ROUTES)
	if len(m.Resources) != 1 || m.Resources[0].Route.Node != "c" || m.Resources[0].Route.PodCidr != rc.PodCidr {
		t.Errorf("route delta = %v, want c's route", m)
	}
	e.put(resPods, "default", "p-a2", pod("p-a2", "a"))
	if m := ag.next(pb.Kind_KIND_PODS); len(m.Resources) != 1 || m.Resources[0].Name != "p-a2" {
		t.Errorf("pod delta = %v, want only p-a2 (p-b2 is b's)", m)
	}
}

func TestAckNack(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := newEnv(t, func(_ *store.Config, c *Config) { c.Registerer = reg })
	e.register("a", "192.0.2.1")
	ag := e.watch("a", nil)
	ag.snapshots()
	e.put(resServices, "default", "web", service("web"))
	good := ag.next(pb.Kind_KIND_SERVICES)
	ag.ack(good, "")
	e.put(resServices, "default", "bad", service("bad"))
	bad := ag.next(pb.Kind_KIND_SERVICES)
	ag.ack(bad, "map full")
	cond := func() *corev1.NodeCondition {
		for _, c := range e.node("a").Status.Conditions {
			if c.Type == ConditionConfigApplied {
				return &c
			}
		}
		return nil
	}
	eventually(t, "the NACK in the node's conditions", func() bool { c := cond(); return c != nil && c.Status == corev1.ConditionFalse })
	c := cond()
	for _, want := range []string{"map full", "last good version " + itoa(good.Version), "KIND_SERVICES version " + itoa(bad.Version)} {
		if !strings.Contains(c.Message, want) {
			t.Errorf("condition message %q lacks %q", c.Message, want)
		}
	}
	if n := value(t, e.srv.met.nacks.WithLabelValues("KIND_SERVICES")); n != 1 {
		t.Errorf("nacks metric = %v, want 1", n)
	}
	e.put(resServices, "default", "web2", service("web2"))
	ag.ack(ag.next(pb.Kind_KIND_SERVICES), "")
	eventually(t, "the condition back to True", func() bool { c := cond(); return c != nil && c.Status == corev1.ConditionTrue })
}

func TestResumeFromVersion(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := newEnv(t, func(_ *store.Config, c *Config) { c.Registerer = reg })
	e.register("a", "192.0.2.1")
	e.put(resServices, "default", "s1", service("s1"))
	ag := e.watch("a", nil)
	ag.snapshots()
	ag.cancel()
	e.put(resServices, "default", "s2", service("s2"))
	e.del(resServices, "default", "s1")

	ag2 := e.watch("a", ag.versions)
	ag2.objects = ag.objects
	m := ag2.next(pb.Kind_KIND_SERVICES)
	if m.Snapshot {
		t.Fatal("resume sent a snapshot; want deltas from the agent's version")
	}
	eventually(t, "s2 added and s1 deleted", func() bool {
		select {
		case m := <-ag2.msgs:
			ag2.apply(m)
		default:
		}
		return names(ag2.objects[pb.Kind_KIND_SERVICES]) == "1: default/s2 "
	})
	if n := value(t, e.srv.met.resumes.WithLabelValues("KIND_SERVICES")); n != 1 {
		t.Errorf("resumes = %v, want 1", n)
	}
}

func TestResyncWhenGone(t *testing.T) {
	e := newEnv(t, func(sc *store.Config, _ *Config) { sc.HistoryRevisions = 10 })
	e.register("a", "192.0.2.1")
	e.put(resServices, "default", "s1", service("s1"))
	ag := e.watch("a", nil)
	ag.snapshots()
	ag.cancel()
	for i := 0; i < 40; i++ {
		e.put(resServices, "default", "n"+itoa(uint64(i)), service("x"))
	}
	e.del(resServices, "default", "s1")
	ag2 := e.watch("a", ag.versions)
	m := ag2.next(pb.Kind_KIND_SERVICES)
	if !m.Snapshot || len(m.Resources) != 40 {
		t.Fatalf("want a 40-service snapshot after the history is gone, got snapshot=%v with %d", m.Snapshot, len(m.Resources))
	}
}

// TestHeartbeatsRenewLease: heartbeats renew the node's Lease in
// kube-node-lease at most once per LeaseRenew (plus once when the stream
// opens) and leave the Node alone while it is Ready; once the Node is
// not Ready (the node lifecycle controller marked it Unknown), the next
// renewal sets Ready True again: one Node write, on change.
func TestHeartbeatsRenewLease(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := newEnv(t, func(_ *store.Config, c *Config) { c.LeaseRenew = 200 * time.Millisecond; c.Registerer = reg })
	e.register("a", "192.0.2.1")
	before, err := e.st.Get(ctxT(t), nodeKey("a"), store.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	registered := value(t, e.srv.met.nodeWrites)
	ag := e.watch("a", nil)
	ag.snapshots()
	start := time.Now()
	beat := func(n int) {
		for i := 0; i < n; i++ {
			if err := ag.stream.Send(&pb.AgentMessage{Msg: &pb.AgentMessage_Heartbeat{Heartbeat: &pb.Heartbeat{UnixNano: time.Now().UnixNano()}}}); err != nil {
				t.Fatal(err)
			}
			time.Sleep(25 * time.Millisecond)
		}
	}
	beat(60)
	elapsed := time.Since(start)
	eventually(t, "heartbeats counted", func() bool { return value(t, e.srv.met.heartbeats) == 60 })
	o, err := e.st.Get(ctxT(t), leaseKey("a"), store.ReadOptions{})
	if err != nil {
		t.Fatalf("the node's lease: %v", err)
	}
	var l coordinationv1.Lease
	if err := json.Unmarshal(o.Value, &l); err != nil {
		t.Fatal(err)
	}
	if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity != "a" || l.Spec.LeaseDurationSeconds == nil || *l.Spec.LeaseDurationSeconds != 40 ||
		l.Spec.RenewTime == nil || l.Spec.RenewTime.Time.Before(start.Add(elapsed/2)) {
		t.Errorf("lease spec %+v, want holder a, 40 s, renewed in the second half of the heartbeats (after %v)", l.Spec, start.Add(elapsed/2))
	}
	if len(l.OwnerReferences) != 1 || l.OwnerReferences[0].Kind != "Node" || l.OwnerReferences[0].UID != e.node("a").UID {
		t.Errorf("lease owners %+v, want the Node", l.OwnerReferences)
	}
	renewals := value(t, e.srv.met.leaseRenewals)
	if max := float64(elapsed/(200*time.Millisecond)) + 2; renewals < 2 || renewals > max {
		t.Errorf("%v lease renewals for 60 heartbeats in %v, want 2..%v (one per 200ms at most, and one at the start)", renewals, elapsed, max)
	}
	after, err := e.st.Get(ctxT(t), nodeKey("a"), store.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if w := value(t, e.srv.met.nodeWrites) - registered; after.Revision != before.Revision || w != 0 {
		t.Errorf("the Ready Node was written by heartbeats: revision %d -> %d, %v writes", before.Revision, after.Revision, w)
	}
	// Registering again with nothing changed writes nothing either.
	e.register("a", "192.0.2.1")
	if after, _ := e.st.Get(ctxT(t), nodeKey("a"), store.ReadOptions{}); after.Revision != before.Revision {
		t.Errorf("a second registration without a change wrote the Node: revision %d -> %d", before.Revision, after.Revision)
	}

	// The node lifecycle controller marks it Unknown; heartbeats set it back.
	if err := updateNode(ctxT(t), e.st, "a", func(n *corev1.Node) error {
		setCondition(n, corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionUnknown, Reason: "NodeStatusUnknown"})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	beat(20)
	eventually(t, "Ready True again", func() bool {
		for _, c := range e.node("a").Status.Conditions {
			if c.Type == corev1.NodeReady {
				return c.Status == corev1.ConditionTrue
			}
		}
		return false
	})
	if w := value(t, e.srv.met.nodeWrites) - registered; w != 1 {
		t.Errorf("%v node writes to set Ready again, want 1", w)
	}
}
