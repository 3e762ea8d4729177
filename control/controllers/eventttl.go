package controllers

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/controllers/kube"
)

// eventTTLEvery is how often expired Events are looked for: a tenth of
// the TTL, at most once a minute.
func (m *Manager) eventTTLEvery() time.Duration { return min(time.Minute, m.cfg.EventTTL/10) }

// eventTTLKey is the event TTL controller's one key: Run enqueues it at
// the start and every eventTTLEvery.
const eventTTLKey = "events"

// syncEventTTL deletes Events not seen for longer than the TTL, as
// kube-apiserver's --event-ttl does (default 1h): controllers, the
// scheduler and agents write them all the time and nothing else removes
// them. It lists Events from the API (no informer keeps them all).
func (m *Manager) syncEventTTL(ctx context.Context, _ string, now time.Time) (time.Duration, error) {
	l, err := m.c.CoreV1().Events(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err != nil {
		m.log.Warn("list events for expiry", "error", err)
		return 0, nil // the next tick tries again
	}
	for i := range ExpiredEvents(l.Items, now, m.cfg.EventTTL) {
		e := &l.Items[i]
		uid := e.UID
		err := m.c.CoreV1().Events(e.Namespace).Delete(ctx, e.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			m.log.Warn("delete expired event", "event", kube.Key(e.Namespace, e.Name), "error", err)
		}
	}
	return 0, nil
}

// ExpiredEvents yields the indexes of the events last seen more than ttl
// before now.
func ExpiredEvents(events []corev1.Event, now time.Time, ttl time.Duration) func(func(int) bool) {
	return func(yield func(int) bool) {
		for i := range events {
			if now.Sub(eventLastSeen(&events[i])) > ttl && !yield(i) {
				return
			}
		}
	}
}

// eventLastSeen is when an Event was last seen: the latest of its
// occurrence timestamps (what every recorder sets), or its creation time
// when it has none.
func eventLastSeen(e *corev1.Event) time.Time {
	var t time.Time
	for _, c := range []time.Time{e.FirstTimestamp.Time, e.LastTimestamp.Time, e.EventTime.Time} {
		if c.After(t) {
			t = c
		}
	}
	if e.Series != nil && e.Series.LastObservedTime.After(t) {
		t = e.Series.LastObservedTime.Time
	}
	if t.IsZero() {
		t = e.CreationTimestamp.Time
	}
	return t
}
