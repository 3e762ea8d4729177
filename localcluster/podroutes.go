package localcluster

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/weirnet/weir/control/client"
)

// routePodCIDRs routes each node's pod CIDR through the node's address in
// the underlay netns, where the control members live: they are not nodes
// (no agent programs their routes), and without these routes their
// answers to pods (a pod calling the API at kubernetes.default) would be
// dropped. The routes go with the underlay netns at `weir down`.
func routePodCIDRs(ctx context.Context, api *client.Client, s state) error {
	for _, n := range s.Nodes {
		obj, err := api.Get(ctx, gvrNodes, "", n.Name)
		if err != nil {
			return fmt.Errorf("read node %s: %w", n.Name, err)
		}
		cidr, _, _ := unstructured.NestedString(obj.Object, "spec", "podCIDR")
		if cidr == "" {
			return fmt.Errorf("node %s has no pod CIDR yet", n.Name)
		}
		if err := ipCmd(s.Underlay, "route", "replace", cidr, "via", n.IP); err != nil {
			return fmt.Errorf("route node %s's pods from the members: %w", n.Name, err)
		}
	}
	return nil
}
