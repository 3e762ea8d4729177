package printers

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
)

// EventTime is when an event last happened: lastTimestamp, else eventTime,
// else its creation.
func EventTime(ev *corev1.Event) metav1.Time {
	switch {
	case !ev.LastTimestamp.IsZero():
		return ev.LastTimestamp
	case !ev.EventTime.IsZero():
		return metav1.NewTime(ev.EventTime.Time)
	}
	return ev.CreationTimestamp
}

// describeEvents writes the Events: section of describe.
func describeEvents(d *describer, events []*corev1.Event, now time.Time) error {
	if len(events) == 0 {
		d.line(0, "Events", "<none>")
		return nil
	}
	d.line(0, "Events", "")
	d.row(1, "Type", "Reason", "Age", "From", "Message")
	d.row(1, "----", "------", "----", "----", "-------")
	for _, ev := range events {
		d.row(1, ev.Type, ev.Reason, eventAge(ev, now), eventSource(ev), oneLine(ev.Message))
	}
	return nil
}

// eventAge is "5m", or "5m (x3 over 10m)" for a repeated event.
func eventAge(ev *corev1.Event, now time.Time) string {
	last := age(EventTime(ev), now)
	if ev.Count > 1 && !ev.FirstTimestamp.IsZero() {
		return fmt.Sprintf("%s (x%d over %s)", last, ev.Count, duration.HumanDuration(now.Sub(ev.FirstTimestamp.Time)))
	}
	return last
}

func eventSource(ev *corev1.Event) string {
	src := ev.Source.Component
	if src == "" {
		src = ev.ReportingController
	}
	if ev.Source.Host != "" {
		src += ", " + ev.Source.Host
	}
	return orNone(src)
}
