package nodestream

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"runtime"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/store"
	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

// errExhausted: every node CIDR is held by an existing node.
var errExhausted = errors.New("no free pod CIDR left")

// Register creates or updates the Node and assigns its pod CIDR.
func (s *Server) Register(ctx context.Context, req *pb.RegisterRequest) (*pb.RegisterResponse, error) {
	if id := identityFrom(ctx); id.node != req.NodeName {
		return nil, s.refuse(ctx, "register", fmt.Sprintf("it asked to register node %q", req.NodeName))
	}
	if err := validateRegister(req); err != nil {
		return nil, err
	}
	s.registerMu.Lock()
	defer s.registerMu.Unlock()
	for i := 0; i < maxConflicts; i++ {
		resp, retry, err := s.registerOnce(ctx, req)
		if err != nil {
			code := codes.Unavailable
			if errors.Is(err, errExhausted) {
				code = codes.ResourceExhausted
			}
			return nil, status.Errorf(code, "register node %s: %v", req.NodeName, err)
		}
		if !retry {
			s.log.Info("node registered", "node", req.NodeName, "podCIDR", resp.PodCidr)
			return resp, nil
		}
	}
	return nil, status.Errorf(codes.Aborted, "register node %s: too many concurrent changes, retry", req.NodeName)
}

func validateRegister(req *pb.RegisterRequest) error {
	if err := validNodeName(req.NodeName); err != nil {
		return err
	}
	if len(req.Addresses) == 0 {
		return status.Error(codes.InvalidArgument, "addresses: give at least the node's InternalIP")
	}
	for _, a := range req.Addresses {
		if _, err := netip.ParseAddr(a); err != nil {
			return status.Errorf(codes.InvalidArgument, "addresses: %q is not an IP address", a)
		}
	}
	if req.ApiPort < 0 || req.ApiPort > 65535 {
		return status.Errorf(codes.InvalidArgument, "api_port %d: want 1-65535, or 0 for no node API", req.ApiPort)
	}
	for k, v := range req.Capacity {
		if _, err := resource.ParseQuantity(v); err != nil {
			return status.Errorf(codes.InvalidArgument, "capacity[%s]: %q is not a quantity", k, v)
		}
	}
	return nil
}

// registerOnce is one optimistic attempt; retry reports a lost race.
func (s *Server) registerOnce(ctx context.Context, req *pb.RegisterRequest) (*pb.RegisterResponse, bool, error) {
	cur, err := s.cfg.Store.Get(ctx, nodeKey(req.NodeName), store.ReadOptions{})
	node := newNode(req.NodeName)
	var old *corev1.Node
	conds := []store.Cond{{Kind: store.MustNotExist, Key: nodeKey(req.NodeName)}}
	switch {
	case err == nil:
		if node, err = decodeNode(cur); err != nil {
			return nil, false, err
		}
		old = node.DeepCopy()
		conds[0] = store.Cond{Kind: store.RevisionIs, Key: cur.Key, Revision: cur.Revision}
	case !errors.Is(err, store.ErrNotFound):
		return nil, false, err
	}
	var ops []store.Op
	if node.Spec.PodCIDR == "" {
		cidr, c, o, err := s.pickCIDR(ctx, req.NodeName)
		if err != nil {
			return nil, false, err
		}
		node.Spec.PodCIDR, node.Spec.PodCIDRs = cidr, []string{cidr}
		conds, ops = append(conds, c...), o
	}
	fillStatus(node, req)
	rev := uint64(0)
	if old != nil && len(ops) == 0 && sameButHeartbeats(old, node) {
		rev = cur.Revision // a reconnect of a Ready node that did not change: no write
	} else {
		val, err := encodeStored(node, node)
		if err != nil {
			return nil, false, err
		}
		ops = append(ops, store.Op{Kind: store.Put, Key: nodeKey(req.NodeName), Value: val})
		res, err := s.cfg.Store.Txn(ctx, store.Txn{ID: newUID(), Conds: conds, Ops: ops})
		if err != nil || !res.Succeeded {
			return nil, err == nil, err
		}
		rev = res.Revision
		s.met.nodeWrites.Inc()
	}
	resp := &pb.RegisterResponse{PodCidr: node.Spec.PodCIDR, ClusterCidr: s.cidrs.cluster.String(), Revision: rev}
	if req.ApiPort > 0 {
		if resp.ServingCertPem, resp.ServingKeyPem, err = s.ca().NodeServingCert(req.NodeName, s.servingIPs(ctx, req.NodeName, req.Addresses)); err != nil {
			return nil, false, err
		}
	}
	return resp, false, nil
}

func fillStatus(n *corev1.Node, req *pb.RegisterRequest) {
	n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: req.NodeName}}
	for _, a := range req.Addresses {
		n.Status.Addresses = append(n.Status.Addresses, corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: a})
	}
	n.Status.Capacity = corev1.ResourceList{}
	for k, v := range req.Capacity {
		n.Status.Capacity[corev1.ResourceName(k)] = resource.MustParse(v)
	}
	n.Status.Allocatable = n.Status.Capacity
	n.Status.DaemonEndpoints.KubeletEndpoint.Port = req.ApiPort
	n.Status.NodeInfo.KernelVersion = req.KernelVersion
	n.Status.NodeInfo.KubeletVersion = req.AgentVersion
	n.Status.NodeInfo.OperatingSystem, n.Status.NodeInfo.Architecture = "linux", runtime.GOARCH
	setCondition(n, readyCondition(metav1.Now(), readyMessage))
}

// sameButHeartbeats reports whether two Nodes differ at most in their
// conditions' heartbeat times: Node status is written on change only.
func sameButHeartbeats(a, b *corev1.Node) bool {
	a, b = a.DeepCopy(), b.DeepCopy()
	for _, n := range []*corev1.Node{a, b} {
		for i := range n.Status.Conditions {
			n.Status.Conditions[i].LastHeartbeatTime = metav1.Time{}
		}
	}
	return apiequality.Semantic.DeepEqual(a, b)
}

// pickCIDR finds a free node CIDR, lowest first, with the conds and ops
// that claim it in the Node's Txn. A key whose node no longer exists (it
// was deleted) is free again: the claim then requires that key unchanged
// and its node still absent, so the reuse is race-free.
func (s *Server) pickCIDR(ctx context.Context, node string) (string, []store.Cond, []store.Op, error) {
	held, err := s.cfg.Store.List(ctx, store.ListOptions{Resource: resCIDRs})
	if err != nil {
		return "", nil, nil, err
	}
	owners := map[string]store.Object{}
	for _, o := range held.Objects {
		owners[o.Key.Name] = o
	}
	nodes, err := s.cfg.Store.List(ctx, store.ListOptions{Resource: resNodes, Revision: held.Revision})
	if err != nil {
		return "", nil, nil, err
	}
	exists := map[string]bool{}
	for _, o := range nodes.Objects {
		exists[o.Key.Name] = true
	}
	for i := 0; i < s.cidrs.count(); i++ {
		cidr := s.cidrs.nth(i).String()
		key := store.Key{Resource: resCIDRs, Name: cidr}
		put := store.Op{Kind: store.Put, Key: key, Value: []byte(node)}
		o, taken := owners[cidr]
		if !taken {
			return cidr, []store.Cond{{Kind: store.MustNotExist, Key: key}}, []store.Op{put}, nil
		}
		if owner := string(o.Value); owner == node || !exists[owner] {
			conds := []store.Cond{{Kind: store.RevisionIs, Key: key, Revision: o.Revision}}
			if owner != node {
				conds = append(conds, store.Cond{Kind: store.MustNotExist, Key: nodeKey(owner)})
			}
			return cidr, conds, []store.Op{put}, nil
		}
	}
	return "", nil, nil, fmt.Errorf("%w: cluster CIDR %s (/%d per node): delete unused nodes or configure a larger --cluster-cidr", errExhausted, s.cidrs.cluster, s.cidrs.bits)
}
