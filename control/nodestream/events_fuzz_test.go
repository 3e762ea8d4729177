package nodestream

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/weirnet/weir/control/store"
	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

// FuzzPodEvent: whatever an agent puts in a PodEvent, the server either
// rejects it with an error or makes an Event with a valid name, a message
// within the API's limit and the pod as involvedObject, which encodes,
// decodes and folds.
func FuzzPodEvent(f *testing.F) {
	f.Add("default", "web", "u1", "Warning", "Unhealthy", "Liveness probe failed: refused", "app", int64(1e18))
	f.Add("default", "web", "u1", "Normal", "Pulled", strings.Repeat("é", 3000), "", int64(0))
	f.Add("", "", "", "Error", "", "", "c}{", int64(-1))
	f.Fuzz(func(t *testing.T, ns, name, uid, typ, reason, msg, ctr string, unixNano int64) {
		pe := &pb.PodEvent{Namespace: ns, Name: name, Uid: uid, Type: typ, Reason: reason, Message: msg, Container: ctr, UnixNano: unixNano}
		if err := checkPodEvent(pe); err != nil {
			return
		}
		p := pod("web-0", "node-a")
		p.UID = "u1"
		now := time.Unix(1_800_000_000, 0)
		at := eventTime(pe, now)
		if at.After(now.Add(time.Minute)) {
			t.Fatalf("event time %v is ahead of the server's clock %v", at, now)
		}
		ev := podEventObject("node-a", p, pe, at)
		if errs := validation.IsDNS1123Subdomain(ev.Name); len(errs) > 0 {
			t.Fatalf("event name %q: %v", ev.Name, errs)
		}
		if len(ev.Message) > maxEventMessage || utf8.ValidString(msg) && !utf8.ValidString(ev.Message) {
			t.Fatalf("message of %d bytes (valid UTF-8 %v)", len(ev.Message), utf8.ValidString(ev.Message))
		}
		if ev.InvolvedObject.Name != "web-0" || ev.InvolvedObject.UID != "u1" || ev.Type != corev1.EventTypeNormal && ev.Type != corev1.EventTypeWarning {
			t.Fatalf("event %+v", ev)
		}
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		folded, err := foldEvent(store.Object{Value: b}, podEventObject("node-a", p, pe, at))
		if err != nil || folded.Count != 2 {
			t.Fatalf("a repeat of a stored event: %+v %v", folded, err)
		}
	})
}
