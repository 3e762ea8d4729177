package nodestream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/store"
	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

// ConditionConfigApplied is the Node condition that says whether the
// agent applied the last pushed state: False with the NACK's error
// while an agent rejects a version, True once it ACKs again.
const ConditionConfigApplied corev1.NodeConditionType = "WeirConfigApplied"

func (ses *session) handleAck(ctx context.Context, a *pb.Ack) {
	kind := a.Kind.String()
	ses.mu.Lock()
	wasNacked := ses.nacked[a.Kind]
	if a.Error == "" {
		ses.acked[a.Kind] = a.Version
		ses.nacked[a.Kind] = false
	} else {
		ses.nacked[a.Kind] = true
	}
	good := ses.acked[a.Kind]
	ses.mu.Unlock()
	if a.Error == "" {
		ses.s.met.acks.WithLabelValues(kind).Inc()
		if wasNacked {
			ses.writeCondition(ctx, corev1.ConditionTrue, "Applied", fmt.Sprintf("%s version %d applied", kind, a.Version))
		}
		return
	}
	ses.s.met.nacks.WithLabelValues(kind).Inc()
	ses.s.log.Warn("agent rejected an update", "node", ses.node, "kind", kind, "version", a.Version, "nonce", a.Nonce, "error", a.Error)
	ses.writeCondition(ctx, corev1.ConditionFalse, "Nacked",
		fmt.Sprintf("%s version %d rejected (last good version %d): %s", kind, a.Version, good, a.Error))
}

func (ses *session) writeCondition(ctx context.Context, st corev1.ConditionStatus, reason, msg string) {
	now := metav1.Now()
	err := updateNode(ctx, ses.s.cfg.Store, ses.node, func(n *corev1.Node) error {
		if !setCondition(n, corev1.NodeCondition{Type: ConditionConfigApplied, Status: st, Reason: reason, Message: msg, LastHeartbeatTime: now, LastTransitionTime: now}) {
			return errUnchanged
		}
		return nil
	})
	if err != nil {
		ses.s.log.Warn("write node condition", "node", ses.node, "error", err)
		return
	}
	ses.s.met.nodeWrites.Inc()
}

// handleHeartbeat renews the node's Lease when Config.LeaseRenew has
// passed since the last renewal, and then makes sure the Node is Ready
// (written only when it is not). Heartbeats in between only count.
func (ses *session) handleHeartbeat(ctx context.Context) {
	ses.s.met.heartbeats.Inc()
	ses.alive(ctx, time.Now())
}

// alive is a sign of life from the agent at now (its subscription or a
// heartbeat); see handleHeartbeat.
func (ses *session) alive(ctx context.Context, now time.Time) {
	if !ses.lease.due(now, ses.s.cfg.LeaseRenew) {
		return
	}
	if err := ses.renewLease(ctx, now); err != nil {
		ses.s.log.Warn("renew node lease", "node", ses.node, "error", err)
		return
	}
	if err := ses.ensureReady(ctx); err != nil {
		ses.s.log.Warn("node Ready condition", "node", ses.node, "error", err)
	}
}

// errNotBound: a node may only report the pods bound to it.
var errNotBound = errors.New("pod is not bound to this node")

// errStaleReport: a report about a pod that is no longer there, or is
// another pod by now (deleted and recreated under the same name), or a
// removal of a pod that is not being deleted (one the agent dropped
// because it was rebound). Dropped, and logged at debug only.
var errStaleReport = errors.New("stale pod report")

// writePodStatus applies an agent's report to the stored pod with the
// report's UID: it replaces the status, or, when the report says the pod
// is removed and the pod has a deletionTimestamp, deletes the pod (the
// end of a graceful deletion). A removed pod that still has finalizers is
// not deleted: it stays Terminating with its deletionGracePeriodSeconds
// set to 0 (as kubelet's final grace-0 DELETE does in Kubernetes), so
// that the API deletes it when its last finalizer is removed. Each write
// is a Txn conditioned on the revision read.
func (s *Server) writePodStatus(ctx context.Context, node string, ps *pb.PodStatus) error {
	var st corev1.PodStatus
	if !ps.Removed {
		if err := json.Unmarshal(ps.StatusJson, &st); err != nil {
			return fmt.Errorf("decode status_json: %w", err)
		}
	}
	key := store.Key{Resource: resPods, Namespace: ps.Namespace, Name: ps.Name}
	for i := 0; i < maxConflicts; i++ {
		o, err := s.cfg.Store.Get(ctx, key, store.ReadOptions{})
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: pod not found", errStaleReport)
		}
		if err != nil {
			return fmt.Errorf("read pod: %w", err)
		}
		pod := &corev1.Pod{}
		if err := json.Unmarshal(o.Value, pod); err != nil {
			return fmt.Errorf("decode stored pod: %w", err)
		}
		if string(pod.UID) != ps.Uid {
			return fmt.Errorf("%w: report for uid %q, the pod is uid %q", errStaleReport, ps.Uid, pod.UID)
		}
		if pod.Spec.NodeName != node {
			return fmt.Errorf("%w (bound to %q)", errNotBound, pod.Spec.NodeName)
		}
		op := store.Op{Kind: store.Delete, Key: key}
		if ps.Removed {
			if pod.DeletionTimestamp == nil {
				return fmt.Errorf("%w: removed, but the pod is not being deleted", errStaleReport)
			}
			if len(pod.Finalizers) > 0 {
				if !finishGrace(pod) {
					return nil // already done: the finalizers' owners delete it
				}
				val, err := encodeStored(pod, pod)
				if err != nil {
					return err
				}
				op = store.Op{Kind: store.Put, Key: key, Value: val}
			}
		} else {
			pod.Status = st
			val, err := encodeStored(pod, pod)
			if err != nil {
				return err
			}
			op = store.Op{Kind: store.Put, Key: key, Value: val}
		}
		res, err := s.cfg.Store.Txn(ctx, store.Txn{ID: newUID(),
			Conds: []store.Cond{{Kind: store.RevisionIs, Key: key, Revision: o.Revision}},
			Ops:   []store.Op{op}})
		if err != nil {
			return fmt.Errorf("write pod status: %w", err)
		}
		if res.Succeeded {
			s.met.podStatuses.Inc()
			return nil
		}
	}
	return fmt.Errorf("write pod status: %w", store.ErrConflict)
}

// finishGrace sets a removed pod's deletionGracePeriodSeconds to 0 and
// reports whether it changed.
func finishGrace(pod *corev1.Pod) bool {
	if g := pod.DeletionGracePeriodSeconds; g != nil && *g == 0 {
		return false
	}
	zero := int64(0)
	pod.DeletionGracePeriodSeconds = &zero
	return true
}
