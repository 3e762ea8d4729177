package client

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// EventsFor lists the Events about obj through the typed client, oldest
// first: those in obj's namespace (all namespaces for a cluster-scoped
// obj) whose involvedObject names it.
func (c *Client) EventsFor(ctx context.Context, obj *unstructured.Unstructured) ([]*corev1.Event, error) {
	ctx, cancel := c.bounded(ctx)
	defer cancel()
	list, err := c.kube.CoreV1().Events(obj.GetNamespace()).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list events for %s %s: %w", obj.GetKind(), obj.GetName(), c.wrapErr(err))
	}
	return MatchEvents(obj, list.Items), nil
}

// MatchEvents picks the events whose involvedObject is obj (by uid when
// both have one, else by kind, namespace and name) and sorts them by when
// they last happened, oldest first; events of the same second (the
// timestamps' precision) are in the order they were last written
// (resourceVersion).
func MatchEvents(obj *unstructured.Unstructured, events []corev1.Event) []*corev1.Event {
	var out []*corev1.Event
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
		return revision(out[i].ResourceVersion) < revision(out[j].ResourceVersion)
	})
	return out
}

func involves(ev *corev1.Event, obj *unstructured.Unstructured) bool {
	io := ev.InvolvedObject
	if io.UID != "" && obj.GetUID() != "" {
		return io.UID == obj.GetUID()
	}
	return io.Kind == obj.GetKind() && io.Name == obj.GetName() && io.Namespace == obj.GetNamespace()
}

// eventTime is when an event last happened: lastTimestamp, else
// eventTime, else its creation.
func eventTime(ev *corev1.Event) time.Time {
	switch {
	case !ev.LastTimestamp.IsZero():
		return ev.LastTimestamp.Time
	case !ev.EventTime.IsZero():
		return ev.EventTime.Time
	}
	return ev.CreationTimestamp.Time
}

// revision is a resourceVersion as a number (0 if it is not one).
func revision(rv string) uint64 {
	v, _ := strconv.ParseUint(rv, 10, 64)
	return v
}
