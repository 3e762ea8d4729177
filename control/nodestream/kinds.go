package nodestream

import (
	"google.golang.org/protobuf/proto"

	"github.com/weirnet/weir/control/store"
	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

// kindSpec is one resource stream: where it comes from in the store and
// how a stored object becomes what a node sees (ok false: not for node).
// convert may use the member's shared decode cache.
type kindSpec struct {
	kind     pb.Kind
	resource string
	convert  func(c *convCache, node string, o store.Object) (r *pb.Resource, ok bool)
}

// kindSpecs is every kind a node sees; a session's kinds loop
// (runKinds) has one select case per entry.
var kindSpecs = [...]kindSpec{
	{pb.Kind_KIND_SERVICES, resServices, asJSON},
	{pb.Kind_KIND_ENDPOINTSLICES, resSlices, asJSON},
	{pb.Kind_KIND_PODS, resPods, podForNode},
	{pb.Kind_KIND_ROUTES, resNodes, routeOf},
}

// The kinds loop in stream.go selects on exactly four watchers.
var _ = [1]struct{}{}[len(kindSpecs)-4]

// asJSON shares the stored bytes: the same for every node, never copied.
func asJSON(_ *convCache, _ string, o store.Object) (*pb.Resource, bool) {
	return &pb.Resource{Namespace: o.Key.Namespace, Name: o.Key.Name, Json: o.Value}, true
}

func podForNode(c *convCache, node string, o store.Object) (*pb.Resource, bool) {
	if c.podNode(o) != node {
		return nil, false
	}
	return asJSON(c, node, o)
}

// routeOf is the route to another node's pod CIDR through its first
// InternalIP; nodes without either have no route.
func routeOf(c *convCache, node string, o store.Object) (*pb.Resource, bool) {
	if o.Key.Name == node {
		return nil, false
	}
	r := c.route(o)
	if r == nil {
		return nil, false
	}
	return &pb.Resource{Name: o.Key.Name, Route: r}, true
}

// snapshot converts a list.
func (k kindSpec) snapshot(c *convCache, node string, objs []store.Object) []*pb.Resource {
	out := make([]*pb.Resource, 0, len(objs))
	for _, o := range objs {
		if r, ok := k.convert(c, node, o); ok {
			r.Revision = o.Revision
			out = append(out, r)
		}
	}
	return out
}

// delta converts one event; nil when the node does not see a change
// (another node's pod, a node write that left its route alone).
func (k kindSpec) delta(c *convCache, node string, ev store.Event) *pb.Resource {
	gone := func(o store.Object) *pb.Resource {
		return &pb.Resource{Namespace: o.Key.Namespace, Name: o.Key.Name, Revision: ev.Revision, Deleted: true}
	}
	if ev.Type == store.Deleted {
		if _, ok := k.convert(c, node, ev.Object); ok {
			return gone(ev.Object)
		}
		return nil
	}
	r, ok := k.convert(c, node, ev.Object)
	var prev *pb.Resource
	prevOK := false
	if ev.Prev != nil {
		prev, prevOK = k.convert(c, node, *ev.Prev)
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
