package client

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

func event(name, kind, ns, objName, uid, last string) corev1.Event {
	ev := corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: name, Namespace: "default", CreationTimestamp: metav1.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)},
		InvolvedObject: corev1.ObjectReference{Kind: kind, Namespace: ns, Name: objName, UID: types.UID(uid)},
	}
	if last != "" {
		t, err := time.Parse(time.RFC3339, last)
		if err != nil {
			panic(err)
		}
		ev.LastTimestamp = metav1.NewTime(t)
	}
	return ev
}

func TestMatchEvents(t *testing.T) {
	pod := &unstructured.Unstructured{}
	pod.SetKind("Pod")
	pod.SetName("web")
	pod.SetNamespace("default")
	pod.SetUID("u1")
	events := []corev1.Event{
		event("late", "Pod", "default", "web", "u1", "2025-01-01T00:03:00Z"),
		event("other-uid", "Pod", "default", "web", "u0", "2025-01-01T00:01:00Z"), // an earlier pod of that name
		event("no-uid", "Pod", "default", "web", "", "2025-01-01T00:02:00Z"),
		event("other-kind", "Service", "default", "web", "", ""),
		event("other-ns", "Pod", "prod", "web", "", ""),
		event("early", "Pod", "default", "web", "u1", ""), // creation time only
	}
	var got []string
	for _, ev := range MatchEvents(pod, events) {
		got = append(got, ev.Name)
	}
	want := []string{"early", "no-uid", "late"}
	if len(got) != len(want) {
		t.Fatalf("matched %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("matched %v, want %v (oldest first)", got, want)
		}
	}
}
