package client

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// eventsGVR is core/v1 Events.
var eventsGVR = schema.GroupVersionResource{Version: "v1", Resource: "events"}

// EventsFor lists the Events about obj, oldest first: those in obj's
// namespace (all namespaces for a cluster-scoped obj) whose involvedObject
// names it.
func (c *Client) EventsFor(ctx context.Context, obj *unstructured.Unstructured) ([]*unstructured.Unstructured, error) {
	list, err := c.List(ctx, eventsGVR, obj.GetNamespace(), ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list events for %s %s: %w", obj.GetKind(), obj.GetName(), err)
	}
	return MatchEvents(obj, list.Items), nil
}

// MatchEvents picks the events whose involvedObject is obj (by uid when
// both have one, else by kind, namespace and name) and sorts them by when
// they last happened, oldest first; events of the same second (the
// timestamps' precision) are in the order they were last written
// (resourceVersion).
func MatchEvents(obj *unstructured.Unstructured, events []unstructured.Unstructured) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for i := range events {
		ev := &events[i]
		if involves(ev, obj) {
			out = append(out, ev)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		ti, tj := eventTime(out[i]), eventTime(out[j])
		if !ti.Equal(tj) {
			return ti.Before(tj)
		}
		return revision(out[i]) < revision(out[j])
	})
	return out
}

func involves(ev, obj *unstructured.Unstructured) bool {
	field := func(f string) string {
		s, _, _ := unstructured.NestedString(ev.Object, "involvedObject", f)
		return s
	}
	if uid := field("uid"); uid != "" && obj.GetUID() != "" {
		return uid == string(obj.GetUID())
	}
	return field("kind") == obj.GetKind() && field("name") == obj.GetName() && field("namespace") == obj.GetNamespace()
}

// eventTime is when an event last happened: lastTimestamp, else
// eventTime, else its creation (zero when none parses).
func eventTime(ev *unstructured.Unstructured) time.Time {
	for _, path := range [][]string{{"lastTimestamp"}, {"eventTime"}, {"metadata", "creationTimestamp"}} {
		s, _, _ := unstructured.NestedString(ev.Object, path...)
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

// revision is an object's resourceVersion as a number (0 if it is not one).
func revision(obj *unstructured.Unstructured) uint64 {
	v, _ := strconv.ParseUint(obj.GetResourceVersion(), 10, 64)
	return v
}
