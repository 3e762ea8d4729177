package controllers

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/weirnet/weir/control/controllers/kube"
)

// eventTTLEvery is how often expired Events are looked for: a tenth of
// the TTL, at most once a minute.
func (m *Manager) eventTTLEvery() time.Duration { return min(time.Minute, m.cfg.EventTTL/10) }

// syncEventTTL deletes Events not seen for longer than the TTL, as
// kube-apiserver's --event-ttl does (default 1h): controllers, the
// scheduler and agents write them all the time and nothing else removes
// them.
func (m *Manager) syncEventTTL(ctx context.Context, now time.Time) {
	if now.Sub(m.eventTTLAt) < m.eventTTLEvery() {
		return
	}
	m.eventTTLAt = now
	var l corev1.EventList
	if err := m.c.Get(ctx, kube.Events, "", "", &l); err != nil {
		m.log.Warn("list events for expiry", "error", err)
		return
	}
	for i := range ExpiredEvents(l.Items, now, m.cfg.EventTTL) {
		e := &l.Items[i]
		if err := m.c.Delete(ctx, kube.Events, e.Namespace, e.Name, e.UID, nil); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			m.log.Warn("delete expired event", "event", kube.Key(e.Namespace, e.Name), "error", err)
		}
	}
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
