package client

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestMatchEventsSameSecond: events of the same second come in the order
// they were last written (an agent sends Pulled, Created, Started within
// one second; their names are hashes and say nothing of the order).
func TestMatchEventsSameSecond(t *testing.T) {
	pod := &unstructured.Unstructured{}
	pod.SetKind("Pod")
	pod.SetName("web")
	pod.SetNamespace("default")
	pod.SetUID("u1")
	mk := func(name, rv string) corev1.Event {
		ev := event(name, "Pod", "default", "web", "u1", "2025-01-01T00:03:00Z")
		ev.ResourceVersion = rv
		return ev
	}
	events := []corev1.Event{mk("web.c3", "120"), mk("web.a1", "9"), mk("web.b2", "100")}
	var got []string
	for _, ev := range MatchEvents(pod, events) {
		got = append(got, ev.Name)
	}
	if len(got) != 3 || got[0] != "web.a1" || got[1] != "web.b2" || got[2] != "web.c3" {
		t.Fatalf("order %v, want web.a1 web.b2 web.c3 (by resourceVersion, numerically)", got)
	}
}
