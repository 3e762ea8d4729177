package kube

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Recorder writes core/v1 Events about objects, as component. It is a
// small adapter rather than client-go's record broadcaster: weir's loops
// pass their clock in (the broadcaster stamps time.Now), record each
// occurrence as its own Event (no aggregation by PATCH), and want the
// write done when Event returns.
type Recorder struct {
	cs        kubernetes.Interface
	component string
}

// NewRecorder returns a Recorder that writes through cs.
func NewRecorder(cs kubernetes.Interface, component string) *Recorder {
	return &Recorder{cs: cs, component: component}
}

// Event records one event about obj (kind and apiVersion name its type).
// Events are best effort: the error is returned for logging only.
func (r *Recorder) Event(ctx context.Context, apiVersion, kind string, obj metav1.Object, eventType, reason, message string, now time.Time) error {
	ns := obj.GetNamespace()
	if ns == "" {
		ns = metav1.NamespaceDefault
	}
	ts := metav1.NewTime(now)
	ev := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{
			Name:      fmt.Sprintf("%s.%x", obj.GetName(), now.UnixNano()),
			Namespace: ns,
		},
		InvolvedObject: corev1.ObjectReference{
			Kind: kind, APIVersion: apiVersion, Namespace: obj.GetNamespace(),
			Name: obj.GetName(), UID: obj.GetUID(), ResourceVersion: obj.GetResourceVersion(),
		},
		Reason: reason, Message: message, Type: eventType,
		Source:         corev1.EventSource{Component: r.component},
		FirstTimestamp: ts, LastTimestamp: ts, Count: 1,
		ReportingController: r.component,
	}
	if _, err := r.cs.CoreV1().Events(ns).Create(ctx, ev, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("record event %s on %s %s: %w", reason, kind, obj.GetName(), err)
	}
	return nil
}
