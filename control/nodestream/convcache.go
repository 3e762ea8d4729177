package nodestream

import (
	"encoding/json"
	"net/netip"
	"sync"

	"github.com/weirnet/weir/control/store"
	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

// convCache decodes each stored object version once per member, however
// many streams see it: every session watches the same pods and nodes, so
// without it one pod or Node write cost a JSON decode per connected agent
// (twice, with the previous version), N² work across a fleet. Entries
// are keyed by key and modification revision (an object version's
// content never changes) and hold what is the same for every node: a
// pod's spec.nodeName, a node's route. Sessions build their own small
// pb.Resource around the shared parts (the JSON bytes are the store
// event's, never copied).
type convCache struct {
	mu    sync.Mutex
	pods  map[versionKey]string    // pod -> spec.nodeName
	nodes map[versionKey]*pb.Route // node -> its route (nil: none)
}

type versionKey struct {
	key store.Key
	rev uint64
}

// convCacheMax bounds each map; the whole map is dropped past it (the
// sessions look up an event's versions within moments of each other, so
// only the recent ones matter).
const convCacheMax = 8192

func newConvCache() *convCache {
	return &convCache{pods: map[versionKey]string{}, nodes: map[versionKey]*pb.Route{}}
}

// podNode is the pod's spec.nodeName.
func (c *convCache) podNode(o store.Object) string {
	k := versionKey{o.Key, o.Revision}
	c.mu.Lock()
	n, ok := c.pods[k]
	c.mu.Unlock()
	if ok {
		return n
	}
	var p struct {
		Spec struct {
			NodeName string `json:"nodeName"`
		} `json:"spec"`
	}
	if json.Unmarshal(o.Value, &p) == nil {
		n = p.Spec.NodeName
	}
	c.mu.Lock()
	if len(c.pods) >= convCacheMax {
		clear(c.pods)
	}
	c.pods[k] = n
	c.mu.Unlock()
	return n
}

// route is the route to a node's pod CIDR through its first InternalIP
// of the same family; nil for nodes without either. Shared: never
// modify it.
func (c *convCache) route(o store.Object) *pb.Route {
	k := versionKey{o.Key, o.Revision}
	c.mu.Lock()
	r, ok := c.nodes[k]
	c.mu.Unlock()
	if ok {
		return r
	}
	r = decodeRoute(o)
	c.mu.Lock()
	if len(c.nodes) >= convCacheMax {
		clear(c.nodes)
	}
	c.nodes[k] = r
	c.mu.Unlock()
	return r
}

func decodeRoute(o store.Object) *pb.Route {
	n, err := decodeNode(o)
	if err != nil {
		return nil
	}
	cidr, err := netip.ParsePrefix(n.Spec.PodCIDR)
	if err != nil {
		return nil
	}
	for _, a := range n.Status.Addresses {
		if a.Type != "InternalIP" {
			continue
		}
		if ip, err := netip.ParseAddr(a.Address); err == nil && ip.Is4() == cidr.Addr().Is4() {
			return &pb.Route{Node: o.Key.Name, PodCidr: cidr.String(), NodeIp: ip.String()}
		}
	}
	return nil
}
