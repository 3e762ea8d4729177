package nodestream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/store"
	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

// AnnotationConfigMirror marks a mirror pod: the API copy of a static pod
// that a node runs from its manifest directory. Its value is the static
// pod's config hash.
const AnnotationConfigMirror = "kubernetes.io/config.mirror"

// errNotMirror: a node may only write mirror pods bound to itself.
var errNotMirror = errors.New("not a mirror pod of this node")

// handleMirrorPod applies an agent's MirrorPod; anything but a mirror of
// the sending node is rejected with a log.
func (ses *session) handleMirrorPod(ctx context.Context, m *pb.MirrorPod) {
	if err := ses.s.writeMirrorPod(ctx, ses.node, m); err != nil {
		ses.s.log.Warn("mirror pod rejected", "node", ses.node, "pod", m.Namespace+"/"+m.Name, "deleted", m.Deleted, "error", err)
		return
	}
	ses.s.log.Debug("mirror pod written", "node", ses.node, "pod", m.Namespace+"/"+m.Name, "deleted", m.Deleted)
}

// writeMirrorPod creates, updates or deletes a mirror pod. The mirror
// keeps the UID the agent gives it (its static pod's), so that the
// agent's status reports apply to it. A stored mirror with another UID
// (the static pod changed) or with a deletionTimestamp (deleted through
// the API while its static pod runs) is replaced by a fresh one.
func (s *Server) writeMirrorPod(ctx context.Context, node string, m *pb.MirrorPod) error {
	if m.Namespace == "" || m.Name == "" {
		return fmt.Errorf("%w: namespace and name are required", errNotMirror)
	}
	key := store.Key{Resource: resPods, Namespace: m.Namespace, Name: m.Name}
	if m.Deleted {
		return s.deleteMirror(ctx, node, key)
	}
	want, err := decodeMirror(node, m)
	if err != nil {
		return err
	}
	for i := 0; i < maxConflicts; i++ {
		o, err := s.cfg.Store.Get(ctx, key, store.ReadOptions{})
		if errors.Is(err, store.ErrNotFound) {
			done, err := s.createMirror(ctx, node, key, want)
			if done || err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("read pod: %w", err)
		}
		cur, err := ownMirror(o, node)
		if err != nil {
			return err
		}
		op := store.Op{Kind: store.Delete, Key: key} // replaced: deleted now, created on the next round
		if cur.UID == want.UID && cur.DeletionTimestamp == nil {
			if want.Status.Phase == "" || equality.Semantic.DeepEqual(cur.Status, want.Status) {
				return nil
			}
			cur.Status = want.Status
			val, err := encodeStored(cur, cur)
			if err != nil {
				return err
			}
			op = store.Op{Kind: store.Put, Key: key, Value: val}
		}
		res, err := s.cfg.Store.Txn(ctx, store.Txn{ID: newUID(),
			Conds: []store.Cond{{Kind: store.RevisionIs, Key: key, Revision: o.Revision}}, Ops: []store.Op{op}})
		if err != nil {
			return fmt.Errorf("write mirror pod: %w", err)
		}
		if res.Succeeded && op.Kind == store.Put {
			return nil
		}
	}
	return fmt.Errorf("write mirror pod: %w", store.ErrConflict)
}

// decodeMirror checks what an agent sent: a pod bound to node, with the
// mirror annotation and a UID.
func decodeMirror(node string, m *pb.MirrorPod) (*corev1.Pod, error) {
	p := &corev1.Pod{}
	if err := json.Unmarshal(m.PodJson, p); err != nil {
		return nil, fmt.Errorf("decode pod_json: %w", err)
	}
	switch {
	case p.Namespace != m.Namespace || p.Name != m.Name:
		return nil, fmt.Errorf("pod_json is %s/%s, the message names %s/%s", p.Namespace, p.Name, m.Namespace, m.Name)
	case p.Spec.NodeName != node:
		return nil, fmt.Errorf("%w: spec.nodeName is %q", errNotMirror, p.Spec.NodeName)
	case p.Annotations[AnnotationConfigMirror] == "":
		return nil, fmt.Errorf("%w: annotation %s missing", errNotMirror, AnnotationConfigMirror)
	case p.UID == "":
		return nil, fmt.Errorf("%w: metadata.uid missing", errNotMirror)
	case len(p.Spec.Containers) == 0:
		return nil, errors.New("mirror pod without containers")
	}
	p.APIVersion, p.Kind = "v1", "Pod"
	p.ResourceVersion, p.GenerateName = "", ""
	p.DeletionTimestamp, p.DeletionGracePeriodSeconds, p.Finalizers, p.ManagedFields = nil, nil, nil, nil
	return p, nil
}

// ownMirror decodes a stored pod and checks that it is node's mirror.
func ownMirror(o store.Object, node string) (*corev1.Pod, error) {
	p := &corev1.Pod{}
	if err := json.Unmarshal(o.Value, p); err != nil {
		return nil, fmt.Errorf("decode stored pod: %w", err)
	}
	if p.Spec.NodeName != node || p.Annotations[AnnotationConfigMirror] == "" {
		return nil, fmt.Errorf("%w: a pod %s/%s (bound to %q) that is not this node's mirror exists: delete or rename it", errNotMirror, p.Namespace, p.Name, p.Spec.NodeName)
	}
	return p, nil
}

// createMirror creates the mirror in an existing namespace, owned by the
// node (so that deleting the Node collects it); done is false when the
// key was taken meanwhile.
func (s *Server) createMirror(ctx context.Context, node string, key store.Key, p *corev1.Pod) (done bool, err error) {
	nsKey := store.Key{Resource: "namespaces", Name: key.Namespace}
	if _, err := s.cfg.Store.Get(ctx, nsKey, store.ReadOptions{}); err != nil {
		return false, fmt.Errorf("namespace %s of the mirror pod: %w (create the namespace)", key.Namespace, err)
	}
	n, err := s.cfg.Store.Get(ctx, nodeKey(node), store.ReadOptions{})
	if err != nil {
		return false, fmt.Errorf("read node %s: %w", node, err)
	}
	nodeObj, err := decodeNode(n)
	if err != nil {
		return false, err
	}
	yes := true
	p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: node, UID: nodeObj.UID, Controller: &yes}}
	p.CreationTimestamp = metav1.Now()
	val, err := encodeStored(p, p)
	if err != nil {
		return false, err
	}
	res, err := s.cfg.Store.Txn(ctx, store.Txn{ID: newUID(),
		Conds: []store.Cond{{Kind: store.MustNotExist, Key: key}, {Kind: store.MustExist, Key: nsKey}},
		Ops:   []store.Op{{Kind: store.Put, Key: key, Value: val}}})
	if err != nil {
		return false, fmt.Errorf("create mirror pod: %w", err)
	}
	return res.Succeeded, nil
}

// deleteMirror deletes node's mirror pod at key (gone already is fine).
func (s *Server) deleteMirror(ctx context.Context, node string, key store.Key) error {
	for i := 0; i < maxConflicts; i++ {
		o, err := s.cfg.Store.Get(ctx, key, store.ReadOptions{})
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read pod: %w", err)
		}
		if _, err := ownMirror(o, node); err != nil {
			return err
		}
		res, err := s.cfg.Store.Txn(ctx, store.Txn{ID: newUID(),
			Conds: []store.Cond{{Kind: store.RevisionIs, Key: key, Revision: o.Revision}},
			Ops:   []store.Op{{Kind: store.Delete, Key: key}}})
		if err != nil {
			return fmt.Errorf("delete mirror pod: %w", err)
		}
		if res.Succeeded {
			return nil
		}
	}
	return fmt.Errorf("delete mirror pod: %w", store.ErrConflict)
}
