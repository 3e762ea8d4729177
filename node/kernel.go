package node

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/weirnet/weir/dataplane"
	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

// Dataplane is the service load balancer; *dataplane.Manager implements it.
type Dataplane interface {
	Sync(ctx context.Context, d dataplane.Desired) (dataplane.SyncStats, error)
}

// Routes programs the routes to other nodes' pod CIDRs; *NetlinkRoutes
// implements it. Reconcile makes the routes it owns equal to want.
type Routes interface {
	Reconcile(want []Route) error
}

// Listener receives the full object set after every applied change (the
// hook for the node's DNS server: dns.Server.Update has this shape).
type Listener interface {
	Update(services []corev1.Service, slices []discoveryv1.EndpointSlice, pods []corev1.Pod)
}

// Reconciler applies a State to the kernel.
type Reconciler struct {
	Dataplane Dataplane
	Routes    Routes
	Listener  Listener // optional
}

// Apply programs what kind changed in st (KIND_UNSPECIFIED: everything):
// routes, the dataplane, the listener. The dataplane keeps the previous
// state of a service it could not sync; the error says which.
func (r *Reconciler) Apply(ctx context.Context, st *State, kind pb.Kind) error {
	all := kind == pb.Kind_KIND_UNSPECIFIED
	if all || kind == pb.Kind_KIND_ROUTES {
		if err := r.Routes.Reconcile(st.Routes()); err != nil {
			return fmt.Errorf("routes: %w", err)
		}
	}
	var convErr error
	if all || kind == pb.Kind_KIND_SERVICES || kind == pb.Kind_KIND_ENDPOINTSLICES {
		var desired dataplane.Desired
		desired, convErr = dataplane.DesiredFromObjects(st.Services(), st.Slices())
		if _, err := r.Dataplane.Sync(ctx, desired); err != nil {
			return fmt.Errorf("dataplane: %w", err)
		}
	}
	if r.Listener != nil && kind != pb.Kind_KIND_ROUTES {
		r.Listener.Update(st.Services(), st.Slices(), st.Pods())
	}
	return convErr
}
