package runtime

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/weirnet/weir/tests/testutil"
)

// eventLog collects a runtime's events.
type eventLog struct {
	mu  sync.Mutex
	evs []PodEvent
}

func (l *eventLog) add(e PodEvent) {
	l.mu.Lock()
	l.evs = append(l.evs, e)
	l.mu.Unlock()
}

// find is the first event of the pod with this reason whose message
// contains msg.
func (l *eventLog) find(pod, reason, msg string) (PodEvent, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.evs {
		if e.Name == pod && e.Reason == reason && strings.Contains(e.Message, msg) {
			return e, true
		}
	}
	return PodEvent{}, false
}

func (l *eventLog) dump(pod string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, e := range l.evs {
		if e.Name == pod {
			fmt.Fprintf(&b, "  %s %s [%s] %s\n", e.Type, e.Reason, e.Container, e.Message)
		}
	}
	return b.String()
}

// TestPodEvents: a normal pod gives Pulled (already present), Created,
// Started, and Killing when deleted; a failing liveness probe gives
// Unhealthy and Killing (will be restarted); a missing image under
// imagePullPolicy Never gives ErrImageNeverPull and Failed; a sandbox
// that cannot be set up gives FailedCreatePodSandBox.
func TestPodEvents(t *testing.T) {
	testutil.RequirePrivileged(t)
	n := newTestNode(t)
	evs := &eventLog{}
	n.rt.cfg.Event = dropRepeats(evs.add) // set before the first Sync: no worker runs yet

	ok := testPod("ev-ok", types.UID(uuid.NewString()))
	live := testPod("ev-live", types.UID(uuid.NewString()))
	live.Spec.Containers[0].LivenessProbe = every1s(corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(7777)}}, 1)
	never := testPod("ev-never", types.UID(uuid.NewString()))
	never.Spec.Containers[0].Image, never.Spec.Containers[0].ImagePullPolicy = "weir.test/missing:1", corev1.PullNever
	sandbox := testPod("ev-sandbox", types.UID(uuid.NewString())) // a hostNetwork pod, and the node has no address
	sandbox.Spec.HostNetwork = true
	n.rt.Sync([]corev1.Pod{ok, live, never, sandbox})

	want := func(pod, typ, reason, msg string) PodEvent {
		t.Helper()
		var e PodEvent
		waitFor(t, fmt.Sprintf("%s event %s %q", pod, reason, msg), 60*time.Second, func() bool {
			var found bool
			e, found = evs.find(pod, reason, msg)
			return found
		})
		if e.Type != typ || e.Namespace != "default" || e.Container != "web" || e.UID == "" || e.Time.IsZero() {
			t.Errorf("%s %s: %+v; want type %s about container web of default/%s with a UID and time", pod, reason, e, typ, pod)
		}
		return e
	}
	want("ev-ok", corev1.EventTypeNormal, EventPulled, `Container image "`+ok.Spec.Containers[0].Image+`" already present on machine`)
	want("ev-ok", corev1.EventTypeNormal, EventCreated, "Created container web")
	want("ev-ok", corev1.EventTypeNormal, EventStarted, "Started container web")

	want("ev-live", corev1.EventTypeWarning, EventUnhealthy, "Liveness probe failed: ")
	want("ev-live", corev1.EventTypeNormal, EventKilling, "Container web failed liveness probe, will be restarted")
	want("ev-live", corev1.EventTypeWarning, EventBackOff, "Back-off restarting failed container web in pod ev-live_default(")

	want("ev-never", corev1.EventTypeWarning, reasonErrImageNeverPull, `Container image "weir.test/missing:1" is not present with pull policy of Never`)
	want("ev-never", corev1.EventTypeWarning, EventFailed, "Error: ErrImageNeverPull")
	if _, found := evs.find("ev-never", EventPulling, ""); found {
		t.Errorf("a Pulling event under imagePullPolicy Never:\n%s", evs.dump("ev-never"))
	}

	var sb PodEvent
	waitFor(t, "FailedCreatePodSandBox", 30*time.Second, func() bool {
		var found bool
		sb, found = evs.find("ev-sandbox", EventFailedSandbox, "Failed to create pod sandbox: ")
		return found
	})
	if sb.Type != corev1.EventTypeWarning || sb.Container != "" {
		t.Errorf("FailedCreatePodSandBox: %+v; want a Warning about the pod (no container)", sb)
	}

	n.rt.Sync([]corev1.Pod{live, never})
	want("ev-ok", corev1.EventTypeNormal, EventKilling, "Stopping container web")
	if t.Failed() {
		t.Logf("events:\n%s%s%s%s", evs.dump("ev-ok"), evs.dump("ev-live"), evs.dump("ev-never"), evs.dump("ev-sandbox"))
	}
}

// TestDropRepeats: the same event within a second is dropped; another
// message, another pod or a second later passes.
func TestDropRepeats(t *testing.T) {
	var got []PodEvent
	sink := dropRepeats(func(e PodEvent) { got = append(got, e) })
	t0 := time.Unix(1000, 0)
	ev := func(uid, msg string, at time.Duration) PodEvent {
		return PodEvent{UID: types.UID(uid), Type: corev1.EventTypeWarning, Reason: EventUnhealthy, Message: msg, Container: "c", Time: t0.Add(at)}
	}
	sink(ev("a", "x", 0))
	sink(ev("a", "x", 500*time.Millisecond)) // dropped
	sink(ev("a", "y", 600*time.Millisecond))
	sink(ev("b", "x", 700*time.Millisecond))
	sink(ev("a", "x", 1000*time.Millisecond))
	sink(ev("a", "x", 1500*time.Millisecond)) // dropped
	if len(got) != 4 {
		t.Fatalf("passed %d events, want 4: %+v", len(got), got)
	}
	for i := range 2000 { // the filter's memory stays bounded
		sink(ev(fmt.Sprint(i), "x", 10*time.Second+time.Duration(i)*time.Millisecond))
	}
}

func TestKillingMessage(t *testing.T) {
	for _, tc := range []struct {
		kill    string
		restart bool
		want    string
	}{
		{"Container web failed liveness probe: dial tcp 10.0.0.1:7777: connect: connection refused", true, "Container web failed liveness probe, will be restarted"},
		{"Container web failed startup probe: HTTP probe failed with statuscode: 500", false, "Container web failed startup probe"},
	} {
		if got := killingMessage(tc.kill, tc.restart); got != tc.want {
			t.Errorf("killingMessage(%q, %v) = %q, want %q", tc.kill, tc.restart, got, tc.want)
		}
	}
}
