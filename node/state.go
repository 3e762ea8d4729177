package node

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

// Route says: PodCIDR is reached through NodeIP (another node).
type Route struct {
	Node    string
	PodCIDR netip.Prefix
	NodeIP  netip.Addr
}

// State is what the node stream has delivered: every kind's objects and
// the version it is complete up to. Apply is pure: no I/O, no clock.
type State struct {
	Versions map[pb.Kind]uint64
	services map[string]corev1.Service
	slices   map[string]discoveryv1.EndpointSlice
	pods     map[string]corev1.Pod
	routes   map[string]Route
}

// NewState is an empty state (no versions: the server sends snapshots).
func NewState() *State {
	return &State{Versions: map[pb.Kind]uint64{}, services: map[string]corev1.Service{},
		slices: map[string]discoveryv1.EndpointSlice{}, pods: map[string]corev1.Pod{}, routes: map[string]Route{}}
}

// Apply applies one message atomically: every resource is decoded first,
// and on any error nothing changes (the agent NACKs and keeps its state).
func (s *State) Apply(m *pb.ServerMessage) error {
	switch m.Kind {
	case pb.Kind_KIND_SERVICES:
		return applyKind(s, m, s.services, decodeJSON[corev1.Service])
	case pb.Kind_KIND_ENDPOINTSLICES:
		return applyKind(s, m, s.slices, decodeJSON[discoveryv1.EndpointSlice])
	case pb.Kind_KIND_PODS:
		return applyKind(s, m, s.pods, decodeJSON[corev1.Pod])
	case pb.Kind_KIND_ROUTES:
		return applyKind(s, m, s.routes, decodeRoute)
	}
	return fmt.Errorf("unknown kind %d: upgrade the agent", int32(m.Kind))
}

func applyKind[T any](s *State, m *pb.ServerMessage, objs map[string]T, decode func(*pb.Resource) (T, error)) error {
	type change struct {
		key string
		obj *T
	}
	changes := make([]change, 0, len(m.Resources))
	for _, r := range m.Resources {
		key := r.Namespace + "/" + r.Name
		if r.Deleted {
			changes = append(changes, change{key: key})
			continue
		}
		obj, err := decode(r)
		if err != nil {
			return fmt.Errorf("%s %s at revision %d: %w", m.Kind, key, r.Revision, err)
		}
		changes = append(changes, change{key, &obj})
	}
	if m.Snapshot {
		clear(objs)
	}
	for _, c := range changes {
		if c.obj == nil {
			delete(objs, c.key)
		} else {
			objs[c.key] = *c.obj
		}
	}
	s.Versions[m.Kind] = m.Version
	return nil
}

func decodeJSON[T any](r *pb.Resource) (T, error) {
	var v T
	if err := json.Unmarshal(r.Json, &v); err != nil {
		return v, fmt.Errorf("decode: %w", err)
	}
	return v, nil
}

func decodeRoute(r *pb.Resource) (Route, error) {
	if r.Route == nil {
		return Route{}, fmt.Errorf("route missing")
	}
	cidr, err := netip.ParsePrefix(r.Route.PodCidr)
	if err != nil || cidr != cidr.Masked() {
		return Route{}, fmt.Errorf("pod CIDR %q is not a network", r.Route.PodCidr)
	}
	ip, err := netip.ParseAddr(r.Route.NodeIp)
	if err != nil || ip.Is4() != cidr.Addr().Is4() {
		return Route{}, fmt.Errorf("node IP %q does not match pod CIDR %s", r.Route.NodeIp, cidr)
	}
	return Route{Node: r.Route.Node, PodCIDR: cidr, NodeIP: ip}, nil
}

// Services, Slices, Pods and Routes list the state sorted by key.
func (s *State) Services() []corev1.Service          { return sorted(s.services) }
func (s *State) Slices() []discoveryv1.EndpointSlice { return sorted(s.slices) }
func (s *State) Pods() []corev1.Pod                  { return sorted(s.pods) }
func (s *State) Routes() []Route                     { return sorted(s.routes) }

func sorted[T any](m map[string]T) []T {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]T, 0, len(m))
	for _, k := range keys {
		out = append(out, m[k])
	}
	return out
}
