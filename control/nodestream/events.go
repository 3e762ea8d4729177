package nodestream

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/weirnet/weir/control/store"
	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

const (
	resEvents = "events"
	// EventComponent is the source.component and reportingComponent of
	// the Events the agents' pod events become (the kubelet's is
	// "kubelet").
	EventComponent = "weir-agent"
	// eventFoldWindow: a repeat of an Event (same pod, container, type,
	// reason and message) within it increments the stored Event's count
	// instead of creating another, as the kubelet's event correlator does.
	eventFoldWindow = 10 * time.Minute
	// maxEventMessage is the API's limit for Event.message.
	maxEventMessage = 4096
)

// errBadEvent: a PodEvent the server cannot record as it is.
var errBadEvent = errors.New("invalid pod event")

// handlePodEvent records an agent's pod event, within the session's rate;
// one about a pod that is gone or another pod by now is dropped and
// logged at debug only; one about another node's pod is refused
// (PermissionDenied, the end of the stream).
func (ses *session) handlePodEvent(ctx context.Context, pe *pb.PodEvent) error {
	now := time.Now()
	if !ses.events.allow(now) {
		if n := ses.events.noteDrop(now); n > 0 {
			ses.s.log.Warn("pod events dropped: the agent sends more than the rate limit", "node", ses.node, "dropped", n, "perSecond", eventRate)
		}
		return nil
	}
	err := ses.s.writePodEvent(ctx, ses.node, pe, now)
	switch {
	case err == nil:
	case errors.Is(err, errNotBound):
		return ses.s.refuse(ctx, "pod event", fmt.Sprintf("pod %s/%s: %v", pe.Namespace, pe.Name, err))
	case errors.Is(err, errStaleReport):
		ses.s.log.Debug("pod event dropped", "node", ses.node, "pod", pe.Namespace+"/"+pe.Name, "uid", pe.Uid, "reason", pe.Reason, "why", err)
	default:
		ses.s.log.Warn("pod event", "node", ses.node, "pod", pe.Namespace+"/"+pe.Name, "reason", pe.Reason, "error", err)
	}
	return nil
}

// writePodEvent records pe as a core/v1 Event about its pod, if the pod
// exists with pe's UID and is bound to node: a new Event, or the count and
// lastTimestamp of the same Event seen within eventFoldWindow.
func (s *Server) writePodEvent(ctx context.Context, node string, pe *pb.PodEvent, now time.Time) error {
	if err := checkPodEvent(pe); err != nil {
		return err
	}
	pod, err := s.boundPod(ctx, node, pe.Namespace, pe.Name, pe.Uid)
	if err != nil {
		return err
	}
	want := podEventObject(node, pod, pe, eventTime(pe, now))
	key := store.Key{Resource: resEvents, Namespace: want.Namespace, Name: want.Name}
	for i := 0; i < maxConflicts; i++ {
		o, err := s.cfg.Store.Get(ctx, key, store.ReadOptions{})
		cond, ev := store.Cond{Kind: store.MustNotExist, Key: key}, want
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return fmt.Errorf("read event %s: %w", key.Name, err)
		default:
			cond = store.Cond{Kind: store.RevisionIs, Key: key, Revision: o.Revision}
			if ev, err = foldEvent(o, want); err != nil {
				return err
			}
		}
		val, err := encodeStored(ev, ev)
		if err != nil {
			return err
		}
		res, err := s.cfg.Store.Txn(ctx, store.Txn{ID: newUID(), Conds: []store.Cond{cond},
			Ops: []store.Op{{Kind: store.Put, Key: key, Value: val}}})
		if err != nil {
			return fmt.Errorf("write event %s: %w", key.Name, err)
		}
		if res.Succeeded {
			return nil
		}
	}
	return fmt.Errorf("write event %s: %w", key.Name, store.ErrConflict)
}

// checkPodEvent checks what the server relies on.
func checkPodEvent(pe *pb.PodEvent) error {
	switch {
	case pe.Namespace == "" || pe.Name == "" || pe.Uid == "":
		return fmt.Errorf("%w: namespace, name and uid are required", errBadEvent)
	case pe.Reason == "":
		return fmt.Errorf("%w: reason is required", errBadEvent)
	case pe.Type != corev1.EventTypeNormal && pe.Type != corev1.EventTypeWarning:
		return fmt.Errorf("%w: type %q is not Normal or Warning", errBadEvent, pe.Type)
	}
	return nil
}

// boundPod is the stored pod namespace/name if it has uid and is bound to
// node.
func (s *Server) boundPod(ctx context.Context, node, namespace, name, uid string) (*corev1.Pod, error) {
	o, err := s.cfg.Store.Get(ctx, store.Key{Resource: resPods, Namespace: namespace, Name: name}, store.ReadOptions{})
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: pod not found", errStaleReport)
	}
	if err != nil {
		return nil, fmt.Errorf("read pod: %w", err)
	}
	pod := &corev1.Pod{}
	if err := json.Unmarshal(o.Value, pod); err != nil {
		return nil, fmt.Errorf("decode stored pod: %w", err)
	}
	if string(pod.UID) != uid {
		return nil, fmt.Errorf("%w: event for uid %q, the pod is uid %q", errStaleReport, uid, pod.UID)
	}
	if pod.Spec.NodeName != node {
		return nil, fmt.Errorf("%w (bound to %q)", errNotBound, pod.Spec.NodeName)
	}
	return pod, nil
}

// eventTime is when the agent saw the event, unless its clock is ahead
// of the server's by more than a minute (or it sent none): then now.
func eventTime(pe *pb.PodEvent, now time.Time) time.Time {
	t := time.Unix(0, pe.UnixNano)
	if pe.UnixNano <= 0 || t.After(now.Add(time.Minute)) {
		return now
	}
	return t
}

// podEventObject is the Event pe becomes, named <pod>.<hash of the
// folding key> so that a repeat finds it with one Get.
func podEventObject(node string, pod *corev1.Pod, pe *pb.PodEvent, at time.Time) *corev1.Event {
	ref := corev1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID}
	if pe.Container != "" {
		ref.FieldPath = "spec.containers{" + pe.Container + "}"
	}
	msg := pe.Message
	if len(msg) > maxEventMessage {
		msg = strings.ToValidUTF8(msg[:maxEventMessage-3], "") + "..."
	}
	ts := metav1.NewTime(at)
	return &corev1.Event{
		TypeMeta: metav1.TypeMeta{Kind: "Event", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Name: pod.Name + "." + foldHash(node, ref, pe.Type, pe.Reason, msg), Namespace: pod.Namespace,
			UID: types.UID(newUID()), CreationTimestamp: ts},
		InvolvedObject: ref, Type: pe.Type, Reason: pe.Reason, Message: msg,
		Source:         corev1.EventSource{Component: EventComponent, Host: node},
		FirstTimestamp: ts, LastTimestamp: ts, Count: 1,
		ReportingController: EventComponent, ReportingInstance: node,
	}
}

// foldHash is a short digest of what makes two events the same.
func foldHash(node string, ref corev1.ObjectReference, typ, reason, msg string) string {
	sum := sha256.Sum256([]byte(strings.Join([]string{node, string(ref.UID), ref.Namespace, ref.Name, ref.FieldPath, typ, reason, msg}, "\x00")))
	return hex.EncodeToString(sum[:8])
}

// foldEvent is the stored Event o updated for a repeat want: count+1 and
// lastTimestamp when o last happened within eventFoldWindow, else want
// replacing it (a fresh Event under the same name).
func foldEvent(o store.Object, want *corev1.Event) (*corev1.Event, error) {
	cur := &corev1.Event{}
	if err := json.Unmarshal(o.Value, cur); err != nil {
		return nil, fmt.Errorf("decode stored event %s: %w", want.Name, err)
	}
	if cur.InvolvedObject.UID != want.InvolvedObject.UID || want.LastTimestamp.Sub(cur.LastTimestamp.Time) > eventFoldWindow {
		return want, nil
	}
	cur.Count++
	if want.LastTimestamp.After(cur.LastTimestamp.Time) {
		cur.LastTimestamp = want.LastTimestamp
	}
	return cur, nil
}
