package runtime

import (
	"net"
	"testing"
	"time"

	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/weirnet/weir/tests/testutil"
)

// TestPullEvents: a pull from a registry that is down gives Pulling,
// Failed (the error, then "Error: ErrImagePull") and BackOff; once the
// registry is up, Pulled "Successfully pulled image"; a bad image name
// gives InspectFailed and "Error: InvalidImageName".
func TestPullEvents(t *testing.T) {
	testutil.RequirePrivileged(t)
	n := newTestNode(t)
	evs := &eventLog{}
	n.rt.cfg.Event = dropRepeats(evs.add) // set before the first Sync: no worker runs yet
	reg := newTestRegistry(t, n.archive)
	reg.tag("weir/testimage", "1", reg.base)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String() // reserved for the registry, which starts later
	ln.Close()

	grace := int64(1)
	late := testPod("ev-late", types.UID(uuid.NewString()))
	late.Spec.TerminationGracePeriodSeconds = &grace
	late.Spec.Containers[0].Image, late.Spec.Containers[0].ImagePullPolicy = addr+"/weir/testimage:1", corev1.PullIfNotPresent
	bad := testPod("ev-bad", types.UID(uuid.NewString()))
	bad.Spec.Containers[0].Image = "weir/UPPER:1"
	n.rt.Sync([]corev1.Pod{late, bad})

	want := func(pod, typ, reason, msg string) {
		t.Helper()
		var e PodEvent
		waitFor(t, pod+" event "+reason+" "+msg, 60*time.Second, func() bool {
			var found bool
			e, found = evs.find(pod, reason, msg)
			return found
		})
		if e.Type != typ || e.Container != "web" {
			t.Errorf("%s %s: %+v; want type %s about container web", pod, reason, e, typ)
		}
	}
	image := `"` + addr + `/weir/testimage:1"`
	want("ev-late", corev1.EventTypeNormal, EventPulling, "Pulling image "+image)
	want("ev-late", corev1.EventTypeWarning, EventFailed, "Failed to pull image "+image+": ")
	want("ev-late", corev1.EventTypeWarning, EventFailed, "Error: ErrImagePull")
	want("ev-late", corev1.EventTypeNormal, EventBackOff, "Back-off pulling image "+image)
	want("ev-late", corev1.EventTypeWarning, EventFailed, "Error: ImagePullBackOff")
	reg.serve(t, addr)
	want("ev-late", corev1.EventTypeNormal, EventPulled, "Successfully pulled image "+image+" in ")
	want("ev-late", corev1.EventTypeNormal, EventStarted, "Started container web")

	want("ev-bad", corev1.EventTypeWarning, EventInspectFailed, `Failed to apply default image tag "weir/UPPER:1"`)
	want("ev-bad", corev1.EventTypeWarning, EventFailed, "Error: InvalidImageName")
	if t.Failed() {
		t.Logf("events:\n%s%s", evs.dump("ev-late"), evs.dump("ev-bad"))
	}
}
