package nodestream

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/weirnet/weir/control/store"
	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

func (a *agent) sendEvent(e *pb.PodEvent) {
	a.t.Helper()
	if err := a.stream.Send(&pb.AgentMessage{Msg: &pb.AgentMessage_PodEvent{PodEvent: e}}); err != nil {
		a.t.Fatal(err)
	}
}

// storedEvents lists the Events of a namespace by reason.
func (e *env) storedEvents(ns string) map[string][]corev1.Event {
	e.t.Helper()
	res, err := e.st.List(context.Background(), store.ListOptions{Resource: resEvents, Namespace: ns})
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string][]corev1.Event{}
	for _, o := range res.Objects {
		var ev corev1.Event
		if err := json.Unmarshal(o.Value, &ev); err != nil {
			e.t.Fatal(err)
		}
		out[ev.Reason] = append(out[ev.Reason], ev)
	}
	return out
}

// TestPodEventsRecorded: an agent's pod events become Events about the
// pod with the kubelet's fields; a repeat is folded into count 2; events
// about another UID or a missing pod are dropped (another node's pod:
// TestNodeCannotActForAnother).
func TestPodEventsRecorded(t *testing.T) {
	e := newEnv(t, nil)
	e.register("a", "192.0.2.1")
	mine, other := pod("mine", "a"), pod("other", "b")
	mine.UID, other.UID = "u-mine", "u-other"
	e.put(resPods, "default", "mine", mine)
	e.put(resPods, "default", "other", other)
	ag := e.watch("a", nil)
	ag.snapshots()

	at := time.Now().Add(-time.Second).Truncate(time.Second)
	ev := func(name, uid, reason, msg string, at time.Time) *pb.PodEvent {
		return &pb.PodEvent{Namespace: "default", Name: name, Uid: uid, Type: corev1.EventTypeWarning, Reason: reason,
			Message: msg, Container: "c", UnixNano: at.UnixNano()}
	}
	ag.sendEvent(ev("mine", "u-old", "Unhealthy", "another pod of the same name", at))
	ag.sendEvent(ev("gone", "u-gone", "Unhealthy", "no such pod", at))
	bad := ev("mine", "u-mine", "Unhealthy", "bad type", at)
	bad.Type = "Error"
	ag.sendEvent(bad)
	ag.sendEvent(ev("mine", "u-mine", "Unhealthy", "Liveness probe failed: refused", at))
	ag.sendEvent(ev("mine", "u-mine", "Unhealthy", "Liveness probe failed: refused", at.Add(time.Second)))
	started := ev("mine", "u-mine", "Started", "Started container c", at)
	started.Type = corev1.EventTypeNormal
	ag.sendEvent(started) // events are applied in order: this one last

	var got map[string][]corev1.Event
	eventually(t, "Started recorded", func() bool { got = e.storedEvents("default"); return len(got["Started"]) == 1 })
	if len(got) != 2 || len(got["Unhealthy"]) != 1 {
		t.Fatalf("events %+v: want one Unhealthy (folded) and one Started, nothing about other pods", got)
	}
	u := got["Unhealthy"][0]
	want := corev1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: "default", Name: "mine", UID: "u-mine", FieldPath: "spec.containers{c}"}
	if u.InvolvedObject != want {
		t.Errorf("involvedObject %+v, want %+v", u.InvolvedObject, want)
	}
	if u.Count != 2 || !u.FirstTimestamp.Time.Equal(at) || !u.LastTimestamp.Time.Equal(at.Add(time.Second)) {
		t.Errorf("count %d first %v last %v; want 2, %v, %v", u.Count, u.FirstTimestamp, u.LastTimestamp, at, at.Add(time.Second))
	}
	if u.Type != corev1.EventTypeWarning || u.Message != "Liveness probe failed: refused" || u.Namespace != "default" ||
		u.Source != (corev1.EventSource{Component: EventComponent, Host: "a"}) || u.ReportingController != EventComponent || u.ReportingInstance != "a" {
		t.Errorf("event %+v: fields differ", u)
	}
	if u.UID == "" || u.CreationTimestamp.IsZero() {
		t.Errorf("event without uid or creationTimestamp: %+v", u.ObjectMeta)
	}
}

// TestFoldEvent: a repeat within the window counts; after it, or for
// another pod of the same name, a fresh Event replaces the stored one.
func TestFoldEvent(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	p := pod("p", "a")
	p.UID = "u1"
	mk := func(at time.Time) *corev1.Event {
		return podEventObject("a", p, &pb.PodEvent{Type: "Normal", Reason: "Pulled", Message: "m", Container: "c"}, at)
	}
	stored := func(ev *corev1.Event) store.Object {
		b, _ := json.Marshal(ev)
		return store.Object{Value: b}
	}
	first := mk(t0)
	if mk(t0.Add(time.Hour)).Name != first.Name {
		t.Fatal("the name of an event depends on its time: a repeat would not find it")
	}
	got, err := foldEvent(stored(first), mk(t0.Add(5*time.Minute)))
	if err != nil || got.Count != 2 || !got.FirstTimestamp.Equal(&first.FirstTimestamp) || !got.LastTimestamp.Time.Equal(t0.Add(5*time.Minute)) || got.UID != first.UID {
		t.Fatalf("repeat within the window: %+v %v", got, err)
	}
	later := mk(t0.Add(11 * time.Minute))
	if got, _ := foldEvent(stored(first), later); got != later {
		t.Fatalf("repeat after the window folded: %+v", got)
	}
	p.UID = "u2"
	if mk(t0).Name == first.Name {
		t.Fatal("another pod of the same name shares the event name")
	}
	old := first.DeepCopy()
	old.InvolvedObject.UID = types.UID("u0")
	if got, _ := foldEvent(stored(old), first); got != first {
		t.Fatalf("an event of another pod UID folded: %+v", got)
	}
}

// TestEventLimiter: a burst of eventRate passes, then about eventRate per
// second; drops are warned about at most every 10 s.
func TestEventLimiter(t *testing.T) {
	var l eventLimiter
	t0 := time.Unix(1000, 0)
	n := 0
	for i := 0; i < 3*eventRate; i++ {
		if l.allow(t0) {
			n++
		}
	}
	if n != eventRate {
		t.Fatalf("burst passed %d, want %d", n, eventRate)
	}
	n = 0
	for i := 1; i <= 10*eventRate; i++ { // one second at ten times the rate
		if l.allow(t0.Add(time.Duration(i) * time.Second / (10 * eventRate))) {
			n++
		}
	}
	if n < eventRate-2 || n > eventRate {
		t.Fatalf("one second at 10x the rate passed %d, want about %d", n, eventRate)
	}
	if l.noteDrop(t0) != 1 || l.noteDrop(t0.Add(time.Second)) != 0 || l.noteDrop(t0.Add(11*time.Second)) != 2 {
		t.Fatal("drop warnings: want the first at once, then the count after 10 s")
	}
}
