package nodestream

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/weirnet/weir/control/store"
)

// Store resources the node stream reads and writes (the API's keys).
const (
	resNodes    = "nodes"
	resPods     = "pods"
	resServices = "services"
	resSlices   = "endpointslices.discovery.k8s.io"
	resCIDRs    = "_podcidrs" // bookkeeping: one key per allocated pod CIDR, value = node name
)

// maxConflicts bounds the optimistic-concurrency retries of one write.
const maxConflicts = 20

func nodeKey(name string) store.Key { return store.Key{Resource: resNodes, Name: name} }

// decodeNode decodes a stored Node.
func decodeNode(o store.Object) (*corev1.Node, error) {
	n := &corev1.Node{}
	if err := json.Unmarshal(o.Value, n); err != nil {
		return nil, fmt.Errorf("decode stored node %s: %w", o.Key.Name, err)
	}
	return n, nil
}

// encodeStored is the API's stored form: JSON with type meta and without
// resourceVersion (the store's revision is the truth).
func encodeStored(obj interface {
	SetResourceVersion(string)
}, v any) ([]byte, error) {
	obj.SetResourceVersion("")
	return json.Marshal(v)
}

func newNode(name string) *corev1.Node {
	return &corev1.Node{
		TypeMeta: metav1.TypeMeta{Kind: "Node", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{
			Name: name, UID: types.UID(newUID()), CreationTimestamp: metav1.Now(), Generation: 1,
			Labels: map[string]string{"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"},
		},
	}
}

func newUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// errUnchanged tells updateNode that fn made no change.
var errUnchanged = errors.New("unchanged")

// updateNode applies fn to the stored node and writes it back, retrying
// on conflicts. fn returns errUnchanged to skip the write.
func updateNode(ctx context.Context, st store.Interface, name string, fn func(*corev1.Node) error) error {
	for i := 0; i < maxConflicts; i++ {
		o, err := st.Get(ctx, nodeKey(name), store.ReadOptions{})
		if err != nil {
			return fmt.Errorf("read node %s: %w", name, err)
		}
		n, err := decodeNode(o)
		if err != nil {
			return err
		}
		if err := fn(n); err != nil {
			if errors.Is(err, errUnchanged) {
				return nil
			}
			return err
		}
		val, err := encodeStored(n, n)
		if err != nil {
			return err
		}
		res, err := st.Txn(ctx, store.Txn{ID: newUID(),
			Conds: []store.Cond{{Kind: store.RevisionIs, Key: o.Key, Revision: o.Revision}},
			Ops:   []store.Op{{Kind: store.Put, Key: o.Key, Value: val}}})
		if err != nil {
			return fmt.Errorf("write node %s: %w", name, err)
		}
		if res.Succeeded {
			return nil
		}
	}
	return fmt.Errorf("write node %s: %w", name, store.ErrConflict)
}

// setCondition sets or replaces a condition; it reports whether anything
// but the heartbeat time changed.
func setCondition(n *corev1.Node, c corev1.NodeCondition) bool {
	for i := range n.Status.Conditions {
		old := &n.Status.Conditions[i]
		if old.Type != c.Type {
			continue
		}
		changed := old.Status != c.Status || old.Reason != c.Reason || old.Message != c.Message
		if !changed {
			c.LastTransitionTime = old.LastTransitionTime
		}
		*old = c
		return changed
	}
	n.Status.Conditions = append(n.Status.Conditions, c)
	return true
}
