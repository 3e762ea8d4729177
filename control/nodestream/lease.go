package nodestream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/weirnet/weir/control/store"
)

// NodeLeaseNamespace holds every node's Lease, named after the node (as
// kubelet's node lease).
const NodeLeaseNamespace = "kube-node-lease"

const resLeases = "leases.coordination.k8s.io"

func leaseKey(node string) store.Key {
	return store.Key{Resource: resLeases, Namespace: NodeLeaseNamespace, Name: node}
}

// nodeLease is what a session knows of its node's Lease: the object it
// wrote last and that write's revision (0: read it first). Only the
// session's receive loop touches it.
type nodeLease struct {
	obj     *coordinationv1.Lease
	rev     uint64
	renewed time.Time // last successful renewal
	nodeUID types.UID // the Node's, for the Lease's owner reference
}

// due reports whether the lease should be renewed at now.
func (l *nodeLease) due(now time.Time, every time.Duration) bool {
	return l.renewed.IsZero() || now.Sub(l.renewed) >= every
}

// renewLease sets the node's Lease renewTime to now: one Put conditioned
// on the revision this session wrote last, so a renewal costs one store
// write and no read; when the Lease is missing or someone else changed
// it, it reads the Lease (or creates it, owned by the Node so that it
// goes with it) and tries again.
func (ses *session) renewLease(ctx context.Context, now time.Time) error {
	l := &ses.lease
	for i := 0; i < maxConflicts; i++ {
		if l.obj == nil {
			if err := ses.loadLease(ctx, now); err != nil {
				return err
			}
		}
		rt := metav1.NewMicroTime(now)
		l.obj.Spec.RenewTime = &rt
		val, err := json.Marshal(l.obj)
		if err != nil {
			return fmt.Errorf("encode lease: %w", err)
		}
		cond := store.Cond{Kind: store.RevisionIs, Key: leaseKey(ses.node), Revision: l.rev}
		if l.rev == 0 {
			cond = store.Cond{Kind: store.MustNotExist, Key: leaseKey(ses.node)}
		}
		res, err := ses.s.cfg.Store.Txn(ctx, store.Txn{ID: newUID(), Conds: []store.Cond{cond},
			Ops: []store.Op{{Kind: store.Put, Key: leaseKey(ses.node), Value: val}}})
		if err != nil {
			return fmt.Errorf("renew lease %s/%s: %w", NodeLeaseNamespace, ses.node, err)
		}
		if res.Succeeded {
			l.rev, l.renewed = res.Revision, now
			ses.s.met.leaseRenewals.Inc()
			return nil
		}
		l.obj = nil // changed by someone else: read it again
	}
	return fmt.Errorf("renew lease %s/%s: %w", NodeLeaseNamespace, ses.node, store.ErrConflict)
}

// loadLease reads the node's Lease, or prepares a new one, holding it
// for the node with Config.LeaseDuration.
func (ses *session) loadLease(ctx context.Context, now time.Time) error {
	l := &ses.lease
	dur := int32(ses.s.cfg.LeaseDuration / time.Second)
	holder := ses.node
	o, err := ses.s.cfg.Store.Get(ctx, leaseKey(ses.node), store.ReadOptions{})
	switch {
	case errors.Is(err, store.ErrNotFound):
		created := metav1.NewTime(now)
		l.obj = &coordinationv1.Lease{
			TypeMeta:   metav1.TypeMeta{Kind: "Lease", APIVersion: "coordination.k8s.io/v1"},
			ObjectMeta: metav1.ObjectMeta{Name: ses.node, Namespace: NodeLeaseNamespace, UID: types.UID(newUID()), CreationTimestamp: created},
		}
		if l.nodeUID != "" {
			l.obj.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: ses.node, UID: l.nodeUID}}
		}
		l.rev = 0
	case err != nil:
		return fmt.Errorf("read lease %s/%s: %w", NodeLeaseNamespace, ses.node, err)
	default:
		obj := &coordinationv1.Lease{}
		if err := json.Unmarshal(o.Value, obj); err != nil {
			return fmt.Errorf("decode stored lease %s/%s: %w", NodeLeaseNamespace, ses.node, err)
		}
		obj.ResourceVersion = ""
		l.obj, l.rev = obj, o.Revision
	}
	l.obj.Spec.HolderIdentity, l.obj.Spec.LeaseDurationSeconds = &holder, &dur
	return nil
}

// ensureReady writes the node's Ready condition True when it is not (a
// new registration sets it; the node lifecycle controller turns it
// Unknown when the Lease went stale): Node status is written on change,
// never per heartbeat. The check is a local read.
func (ses *session) ensureReady(ctx context.Context) error {
	o, err := ses.s.cfg.Store.Get(ctx, nodeKey(ses.node), store.ReadOptions{Stale: true})
	if err != nil {
		return fmt.Errorf("read node %s: %w", ses.node, err)
	}
	var n struct {
		Status struct {
			Conditions []corev1.NodeCondition `json:"conditions"`
		} `json:"status"`
	}
	if err := json.Unmarshal(o.Value, &n); err != nil {
		return fmt.Errorf("decode stored node %s: %w", ses.node, err)
	}
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
			return nil
		}
	}
	now := metav1.Now()
	err = updateNode(ctx, ses.s.cfg.Store, ses.node, func(n *corev1.Node) error {
		if !setCondition(n, readyCondition(now, readyMessage)) {
			return errUnchanged
		}
		return nil
	})
	if err != nil {
		return err
	}
	ses.s.met.nodeWrites.Inc()
	ses.s.log.Info("node Ready again", "node", ses.node)
	return nil
}

// readyMessage is the Ready condition's message while the agent is up.
const readyMessage = "weir agent is ready"

func readyCondition(now metav1.Time, msg string) corev1.NodeCondition {
	return corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionTrue,
		Reason: "WeirAgentReady", Message: msg, LastHeartbeatTime: now, LastTransitionTime: now}
}
