package nodestream

import (
	"encoding/json"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/weirnet/weir/control/store"
)

// TestConvCacheSharesDecodes: every session asks for the same object
// versions; the cache answers the second time with what it decoded the
// first (the same *pb.Route, never a copy), a new version is decoded
// again, and the routeOf/podForNode filters stay per node.
func TestConvCacheSharesDecodes(t *testing.T) {
	c := newConvCache()
	n := newNode("b")
	n.Spec.PodCIDR = "10.244.1.0/24"
	n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "192.0.2.2"}}
	val, _ := json.Marshal(n)
	o := store.Object{Key: nodeKey("b"), Value: val, Revision: 7}
	r1, ok1 := routeOf(c, "a", o)
	r2, ok2 := routeOf(c, "c", o)
	if !ok1 || !ok2 || r1.Route != r2.Route || r1.Route.PodCidr != "10.244.1.0/24" || r1.Route.NodeIp != "192.0.2.2" {
		t.Fatalf("routes %v %v (ok %v %v), want one shared route to 10.244.1.0/24 via 192.0.2.2", r1, r2, ok1, ok2)
	}
	if _, ok := routeOf(c, "b", o); ok {
		t.Error("node b got a route to itself")
	}
	n.Status.Addresses[0].Address = "192.0.2.9"
	val, _ = json.Marshal(n)
	if r3, _ := routeOf(c, "a", store.Object{Key: nodeKey("b"), Value: val, Revision: 8}); r3.Route == r1.Route || r3.Route.NodeIp != "192.0.2.9" {
		t.Errorf("a new version of the node reused the old route: %v", r3.Route)
	}
	pv, _ := json.Marshal(pod("p", "a"))
	po := store.Object{Key: store.Key{Resource: resPods, Namespace: "default", Name: "p"}, Value: pv, Revision: 9}
	if _, ok := podForNode(c, "a", po); !ok {
		t.Error("pod on a not seen by a")
	}
	if _, ok := podForNode(c, "b", po); ok {
		t.Error("pod on a seen by b")
	}
	if len(c.pods) != 1 || len(c.nodes) != 2 {
		t.Errorf("cache holds %d pod and %d node versions, want 1 and 2", len(c.pods), len(c.nodes))
	}
}
