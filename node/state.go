package node

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/dataplane"
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
	// bySvc indexes the slices by the service they belong to
	// (dataplane.SliceService): service key -> slice keys.
	bySvc map[string]map[string]struct{}
}

// Change is what one applied message changed in kind Kind: the keys
// (namespace/name) of the objects created or replaced, and of those
// removed. An object sent again with the resourceVersion the state holds
// is no change; a snapshot's Deleted lists the keys it no longer has.
type Change struct {
	Kind     pb.Kind
	Snapshot bool
	Changed  []string
	Deleted  []string
	// WasService is, for ENDPOINTSLICES, the service key each changed or
	// deleted slice belonged to before the message (absent: none).
	WasService map[string]string
}

// Empty reports whether the message changed nothing.
func (c *Change) Empty() bool { return len(c.Changed) == 0 && len(c.Deleted) == 0 }

// NewState is an empty state (no versions: the server sends snapshots).
func NewState() *State {
	return &State{Versions: map[pb.Kind]uint64{}, services: map[string]corev1.Service{},
		slices: map[string]discoveryv1.EndpointSlice{}, pods: map[string]corev1.Pod{}, routes: map[string]Route{},
		bySvc: map[string]map[string]struct{}{}}
}

// Apply applies one message atomically and reports what it changed: every
// resource is decoded first, and on any error nothing changes (the agent
// NACKs and keeps its state).
func (s *State) Apply(m *pb.ServerMessage) (Change, error) {
	switch m.Kind {
	case pb.Kind_KIND_SERVICES:
		return applyKind(s, m, s.services, decodeJSON[corev1.Service], sameVersion[corev1.Service], nil)
	case pb.Kind_KIND_ENDPOINTSLICES:
		return applyKind(s, m, s.slices, decodeJSON[discoveryv1.EndpointSlice], sameVersion[discoveryv1.EndpointSlice], s.indexSlice)
	case pb.Kind_KIND_PODS:
		return applyKind(s, m, s.pods, decodeJSON[corev1.Pod], sameVersion[corev1.Pod], nil)
	case pb.Kind_KIND_ROUTES:
		return applyKind(s, m, s.routes, decodeRoute, func(a, b *Route) bool { return *a == *b }, nil)
	}
	return Change{Kind: m.Kind}, fmt.Errorf("unknown kind %d: upgrade the agent", int32(m.Kind))
}

// applyKind applies m to objs. same says whether a held object is
// unchanged by a new one; index (optional) sees every replaced or removed
// object before the change (old, nil when new) and after it (cur, nil when
// removed), and records what Change needs.
func applyKind[T any](s *State, m *pb.ServerMessage, objs map[string]T, decode func(*pb.Resource) (T, error),
	same func(old, cur *T) bool, index func(c *Change, key string, old, cur *T)) (Change, error) {
	type change struct {
		key string
		obj *T
	}
	c := Change{Kind: m.Kind, Snapshot: m.Snapshot}
	changes := make([]change, 0, len(m.Resources))
	for _, r := range m.Resources {
		key := r.Namespace + "/" + r.Name
		if r.Deleted {
			changes = append(changes, change{key: key})
			continue
		}
		obj, err := decode(r)
		if err != nil {
			return c, fmt.Errorf("%s %s at revision %d: %w", m.Kind, key, r.Revision, err)
		}
		changes = append(changes, change{key, &obj})
	}
	remove := func(key string) {
		old, ok := objs[key]
		if !ok {
			return
		}
		if index != nil {
			index(&c, key, &old, nil)
		}
		delete(objs, key)
		c.Deleted = append(c.Deleted, key)
	}
	if m.Snapshot {
		keep := make(map[string]bool, len(changes))
		for _, ch := range changes {
			if ch.obj != nil {
				keep[ch.key] = true
			}
		}
		for key := range objs {
			if !keep[key] {
				remove(key)
			}
		}
		sort.Strings(c.Deleted)
	}
	for _, ch := range changes {
		if ch.obj == nil {
			remove(ch.key)
			continue
		}
		old, ok := objs[ch.key]
		if ok && same(&old, ch.obj) {
			objs[ch.key] = *ch.obj
			continue
		}
		if index != nil {
			var prev *T
			if ok {
				prev = &old
			}
			index(&c, ch.key, prev, ch.obj)
		}
		objs[ch.key] = *ch.obj
		c.Changed = append(c.Changed, ch.key)
	}
	s.Versions[m.Kind] = m.Version
	return c, nil
}

// sameVersion: both carry the same, non-empty resourceVersion.
func sameVersion[T any, P interface {
	*T
	metav1.Object
}](old, cur *T) bool {
	rv := P(old).GetResourceVersion()
	return rv != "" && rv == P(cur).GetResourceVersion()
}

// indexSlice keeps bySvc current and records the service a changed slice
// belonged to.
func (s *State) indexSlice(c *Change, key string, old, cur *discoveryv1.EndpointSlice) {
	if old != nil {
		if svc, ok := dataplane.SliceService(old); ok {
			if c.WasService == nil {
				c.WasService = map[string]string{}
			}
			c.WasService[key] = svc
			delete(s.bySvc[svc], key)
			if len(s.bySvc[svc]) == 0 {
				delete(s.bySvc, svc)
			}
		}
	}
	if cur != nil {
		if svc, ok := dataplane.SliceService(cur); ok {
			if s.bySvc[svc] == nil {
				s.bySvc[svc] = map[string]struct{}{}
			}
			s.bySvc[svc][key] = struct{}{}
		}
	}
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

// Service, Slice and Pod look one object up by key (namespace/name).
func (s *State) Service(key string) (corev1.Service, bool) { v, ok := s.services[key]; return v, ok }
func (s *State) Slice(key string) (discoveryv1.EndpointSlice, bool) {
	v, ok := s.slices[key]
	return v, ok
}
func (s *State) Pod(key string) (corev1.Pod, bool) { v, ok := s.pods[key]; return v, ok }

// SliceService is the service key of the slice held at key ("" when there
// is none, or it names no service).
func (s *State) SliceService(key string) string {
	if sl, ok := s.slices[key]; ok {
		svc, _ := dataplane.SliceService(&sl)
		return svc
	}
	return ""
}

// SlicesOf lists the slices of a service (dataplane.SliceService), sorted
// by key; its cost is that of the service's slices, not of all.
func (s *State) SlicesOf(svc string) []*discoveryv1.EndpointSlice {
	keys := make([]string, 0, len(s.bySvc[svc]))
	for k := range s.bySvc[svc] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]*discoveryv1.EndpointSlice, 0, len(keys))
	for _, k := range keys {
		sl := s.slices[k]
		out = append(out, &sl)
	}
	return out
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
