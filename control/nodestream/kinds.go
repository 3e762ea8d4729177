package nodestream

import (
	"encoding/json"
	"net/netip"

	"google.golang.org/protobuf/proto"

	"github.com/weirnet/weir/control/store"
	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

// kindSpec is one resource stream: where it comes from in the store and
// how a stored object becomes what a node sees (ok false: not for node).
type kindSpec struct {
	kind     pb.Kind
	resource string
	convert  func(node string, o store.Object) (r *pb.Resource, ok bool)
}

var kindSpecs = []kindSpec{
	{pb.Kind_KIND_SERVICES, resServices, asJSON},
	{pb.Kind_KIND_ENDPOINTSLICES, resSlices, asJSON},
	{pb.Kind_KIND_PODS, resPods, podForNode},
	{pb.Kind_KIND_ROUTES, resNodes, routeOf},
}

func asJSON(_ string, o store.Object) (*pb.Resource, bool) {
	return &pb.Resource{Namespace: o.Key.Namespace, Name: o.Key.Name, Json: o.Value}, true
}

func podForNode(node string, o store.Object) (*pb.Resource, bool) {
	var p struct {
		Spec struct {
			NodeName string `json:"nodeName"`
		} `json:"spec"`
	}
	if json.Unmarshal(o.Value, &p) != nil || p.Spec.NodeName != node {
		return nil, false
	}
	return asJSON(node, o)
}

// routeOf is the route to another node's pod CIDR through its first
// InternalIP; nodes without either have no route.
func routeOf(node string, o store.Object) (*pb.Resource, bool) {
	if o.Key.Name == node {
		return nil, false
	}
	n, err := decodeNode(o)
	if err != nil {
		return nil, false
	}
	cidr, err := netip.ParsePrefix(n.Spec.PodCIDR)
	if err != nil {
		return nil, false
	}
	for _, a := range n.Status.Addresses {
		if a.Type != "InternalIP" {
			continue
		}
		if ip, err := netip.ParseAddr(a.Address); err == nil && ip.Is4() == cidr.Addr().Is4() {
			return &pb.Resource{Name: o.Key.Name, Route: &pb.Route{Node: o.Key.Name, PodCidr: cidr.String(), NodeIp: ip.String()}}, true
		}
	}
	return nil, false
}

// snapshot converts a list.
func (k kindSpec) snapshot(node string, objs []store.Object) []*pb.Resource {
	out := make([]*pb.Resource, 0, len(objs))
	for _, o := range objs {
		if r, ok := k.convert(node, o); ok {
			r.Revision = o.Revision
			out = append(out, r)
		}
	}
	return out
}

// delta converts one event; nil when the node does not see a change
// (another node's pod, a node write that left its route alone).
func (k kindSpec) delta(node string, ev store.Event) *pb.Resource {
	gone := func(o store.Object) *pb.Resource {
		return &pb.Resource{Namespace: o.Key.Namespace, Name: o.Key.Name, Revision: ev.Revision, Deleted: true}
	}
	if ev.Type == store.Deleted {
		if _, ok := k.convert(node, ev.Object); ok {
			return gone(ev.Object)
		}
		return nil
	}
	r, ok := k.convert(node, ev.Object)
	var prev *pb.Resource
	prevOK := false
	if ev.Prev != nil {
		prev, prevOK = k.convert(node, *ev.Prev)
	}
	switch {
	case ok && prevOK && proto.Equal(r, prev):
		return nil
	case ok:
		r.Revision = ev.Revision
		return r
	case prevOK:
		return gone(ev.Object)
	}
	return nil
}
