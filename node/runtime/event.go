package runtime

import (
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// PodEvent is something the runtime did or saw for a pod, as the kubelet
// records it (reason and wording are the kubelet's): the agent sends it
// to the control plane, which stores it as a core/v1 Event.
type PodEvent struct {
	Namespace, Name string
	UID             types.UID
	Type            string // corev1.EventTypeNormal or corev1.EventTypeWarning
	Reason, Message string
	Container       string // "" for the pod itself
	Time            time.Time
}

// The kubelet's event reasons the runtime gives.
const (
	EventPulling       = "Pulling"
	EventPulled        = "Pulled"
	EventFailed        = "Failed"
	EventBackOff       = "BackOff"
	EventCreated       = "Created"
	EventStarted       = "Started"
	EventKilling       = "Killing"
	EventUnhealthy     = "Unhealthy"
	EventInspectFailed = "InspectFailed"
	EventFailedSandbox = "FailedCreatePodSandBox"
	EventFailedMount   = "FailedMount"
)

// eventRepeatWindow: the same event of the same pod within it is dropped,
// so a flapping probe cannot flood the agent's queue.
const eventRepeatWindow = time.Second

// maxEventMessage bounds a message (the API's limit for Event.message).
const maxEventMessage = 4096

// dropRepeats wraps an event sink with the repeat filter: an event equal
// (pod, container, type, reason, message) to one passed on less than
// eventRepeatWindow before is dropped.
func dropRepeats(sink func(PodEvent)) func(PodEvent) {
	var mu sync.Mutex
	last := map[string]time.Time{}
	return func(e PodEvent) {
		key := strings.Join([]string{string(e.UID), e.Container, e.Type, e.Reason, e.Message}, "\x00")
		mu.Lock()
		if t, ok := last[key]; ok && e.Time.Sub(t) < eventRepeatWindow && !e.Time.Before(t) {
			mu.Unlock()
			return
		}
		if len(last) >= 1024 {
			for k, t := range last {
				if e.Time.Sub(t) >= eventRepeatWindow {
					delete(last, k)
				}
			}
		}
		last[key] = e.Time
		mu.Unlock()
		sink(e)
	}
}

// event records an event about the pod (container "") or one of its
// containers through Config.Event.
func (w *podWorker) event(typ, reason, container, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if len(msg) > maxEventMessage {
		msg = strings.ToValidUTF8(msg[:maxEventMessage-3], "") + "..."
	}
	w.r.cfg.Event(PodEvent{Namespace: w.pod.Namespace, Name: w.pod.Name, UID: w.pod.UID, Type: typ,
		Reason: reason, Message: msg, Container: container, Time: time.Now()})
}

func (w *podWorker) normal(reason, container, format string, args ...any) {
	w.event(corev1.EventTypeNormal, reason, container, format, args...)
}

func (w *podWorker) warning(reason, container, format string, args ...any) {
	w.event(corev1.EventTypeWarning, reason, container, format, args...)
}
