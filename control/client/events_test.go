package client

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func event(name, kind, ns, objName, uid, last string) unstructured.Unstructured {
	ev := unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Event",
		"metadata":       map[string]any{"name": name, "namespace": "default", "creationTimestamp": "2025-01-01T00:00:00Z"},
		"involvedObject": map[string]any{"kind": kind, "namespace": ns, "name": objName, "uid": uid},
	}}
	if last != "" {
		ev.Object["lastTimestamp"] = last
	}
	return ev
}

func TestMatchEvents(t *testing.T) {
	pod := &unstructured.Unstructured{}
	pod.SetKind("Pod")
	pod.SetName("web")
	pod.SetNamespace("default")
	pod.SetUID("u1")
	events := []unstructured.Unstructured{
		event("late", "Pod", "default", "web", "u1", "2025-01-01T00:03:00Z"),
		event("other-uid", "Pod", "default", "web", "u0", "2025-01-01T00:01:00Z"), // an earlier pod of that name
		event("no-uid", "Pod", "default", "web", "", "2025-01-01T00:02:00Z"),
		event("other-kind", "Service", "default", "web", "", ""),
		event("other-ns", "Pod", "prod", "web", "", ""),
		event("early", "Pod", "default", "web", "u1", ""), // creation time only
	}
	var got []string
	for _, ev := range MatchEvents(pod, events) {
		got = append(got, ev.GetName())
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
