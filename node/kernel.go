package node

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/weirnet/weir/dataplane"
	"github.com/weirnet/weir/dns"
	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

// Dataplane is the service load balancer; *dataplane.Manager implements
// it. Sync programs everything (the first apply, snapshots), Upsert and
// Delete the service ports a change touched, Resync is the periodic
// safety net that counts the drift it repairs.
type Dataplane interface {
	Sync(ctx context.Context, d dataplane.Desired) (dataplane.SyncStats, error)
	Resync(ctx context.Context, d dataplane.Desired) (dataplane.SyncStats, error)
	Upsert(ctx context.Context, svcs ...dataplane.Service) (dataplane.SyncStats, error)
	Delete(ctx context.Context, svcs ...dataplane.Service) (dataplane.SyncStats, error)
}

// Routes programs the routes to other nodes' pod CIDRs; *NetlinkRoutes
// implements it. Reconcile makes the routes it owns equal to want.
type Routes interface {
	Reconcile(want []Route) error
}

// Listener is the hook for the node's DNS server (dns.Server has this
// shape): Update gets the full object set once, at the reconciler's first
// full apply; Apply then gets what each message changed.
type Listener interface {
	Update(services []corev1.Service, slices []discoveryv1.EndpointSlice, pods []corev1.Pod)
	Apply(d dns.Delta) error
}

// Reconciler applies a State to the kernel, change by change. Its methods
// are safe for concurrent use (Resync runs beside the stream loop).
type Reconciler struct {
	Dataplane Dataplane
	Routes    Routes
	Listener  Listener // optional

	mu sync.Mutex
	// ports is, per service key, the service ports last given to the
	// dataplane (to delete those a change drops); nil before the first
	// full Sync, which the first Services/EndpointSlices change runs.
	ports    map[string][]dataplane.Service
	lastFull time.Time // the last Sync or Resync
	failed   bool      // a delta failed in the dataplane since lastFull
}

// Apply programs what c changed in st: routes, the services c touches,
// the listener. c.Kind KIND_UNSPECIFIED programs everything. Messages
// that change no Service or EndpointSlice never touch the dataplane. The
// first Services/EndpointSlices change and every snapshot of those kinds
// run a full Sync; later changes Upsert and Delete only the services they
// touch (an EndpointSlice counts for the service it belongs to, before and
// after the change). The dataplane keeps the previous state of a service
// it could not program; the error says which.
func (r *Reconciler) Apply(ctx context.Context, st *State, c Change) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	all := c.Kind == pb.Kind_KIND_UNSPECIFIED
	if all || c.Kind == pb.Kind_KIND_ROUTES {
		if err := r.Routes.Reconcile(st.Routes()); err != nil {
			return fmt.Errorf("routes: %w", err)
		}
	}
	lb := all || c.Kind == pb.Kind_KIND_SERVICES || c.Kind == pb.Kind_KIND_ENDPOINTSLICES
	first := lb && r.ports == nil
	var convErr, dpErr error
	switch {
	case lb && (first || all || c.Snapshot):
		_, convErr, dpErr = r.sync(ctx, st.Services(), st.Slices(), false)
	case lb && !c.Empty():
		convErr, dpErr = r.apply(ctx, st, affectedServices(st, c))
	}
	if r.Listener != nil && c.Kind != pb.Kind_KIND_ROUTES {
		if first || all {
			r.Listener.Update(st.Services(), st.Slices(), st.Pods())
		} else if d, ok := dnsDelta(st, c); ok {
			_ = r.Listener.Apply(d) // a listener not fed its first Update yet waits for it
		}
	}
	if dpErr != nil {
		return dpErr
	}
	return convErr
}

// sync runs a full Sync (or, as the safety net, a Resync) of the given
// objects and restarts the per-service bookkeeping from it. convErr lists
// addresses the conversion skipped; err is the dataplane's.
func (r *Reconciler) sync(ctx context.Context, svcs []corev1.Service, slices []discoveryv1.EndpointSlice, resync bool) (stats dataplane.SyncStats, convErr, err error) {
	desired, convErr := dataplane.DesiredFromObjects(svcs, slices)
	run := r.Dataplane.Sync
	if resync {
		run = r.Dataplane.Resync
	}
	r.lastFull, r.failed = time.Now(), false
	ports := map[string][]dataplane.Service{}
	for _, s := range desired.Services {
		key := s.Namespace + "/" + s.Name
		ports[key] = append(ports[key], identity(s))
	}
	r.ports = ports
	if stats, err = run(ctx, desired); err != nil {
		r.failed = true
		return stats, convErr, fmt.Errorf("dataplane: %w", err)
	}
	return stats, convErr, nil
}

// apply converts the services keys names and gives the dataplane only
// them: Delete for ports they no longer have (a deleted or headless
// service, a removed port), Upsert for the rest.
func (r *Reconciler) apply(ctx context.Context, st *State, keys []string) (convErr, err error) {
	var upserts, deletes []dataplane.Service
	var convErrs []error
	next := make(map[string][]dataplane.Service, len(keys))
	for _, key := range keys {
		var want []dataplane.Service
		if svc, ok := st.Service(key); ok {
			var err error
			want, err = dataplane.ServicePorts(&svc, st.SlicesOf(key))
			if err != nil {
				convErrs = append(convErrs, err)
			}
		}
		ids := make([]dataplane.Service, len(want))
		for i, s := range want {
			ids[i] = identity(s)
		}
		for _, old := range r.ports[key] {
			if !containsPort(ids, old) {
				deletes = append(deletes, old)
			}
		}
		upserts = append(upserts, want...)
		next[key] = ids
	}
	var errs []error
	if len(deletes) > 0 { // first: a renamed port may take over a frontend of the old one
		if _, err := r.Dataplane.Delete(ctx, deletes...); err != nil {
			errs = append(errs, err)
		}
	}
	if len(upserts) > 0 {
		if _, err := r.Dataplane.Upsert(ctx, upserts...); err != nil {
			errs = append(errs, err)
		}
	}
	for key, ids := range next {
		if len(errs) > 0 { // keep every port that may still be in the maps
			for _, old := range r.ports[key] {
				if !containsPort(ids, old) {
					ids = append(ids, old)
				}
			}
		}
		if len(ids) == 0 {
			delete(r.ports, key)
		} else {
			r.ports[key] = ids
		}
	}
	if len(errs) > 0 {
		r.failed = true
		return errors.Join(convErrs...), fmt.Errorf("dataplane: %w", errors.Join(errs...))
	}
	return errors.Join(convErrs...), nil
}

// identity is the part of a service port Delete needs.
func identity(s dataplane.Service) dataplane.Service {
	return dataplane.Service{Namespace: s.Namespace, Name: s.Name, PortName: s.PortName, Protocol: s.Protocol}
}

func containsPort(ids []dataplane.Service, s dataplane.Service) bool {
	for _, id := range ids {
		if id.PortName == s.PortName && id.Protocol == s.Protocol {
			return true
		}
	}
	return false
}

// affectedServices maps a Services or EndpointSlices change to the
// services (namespace/name) whose dataplane state it may alter, sorted: a
// changed or deleted service itself; for a slice, the service it belonged
// to before the change and the one it belongs to now.
func affectedServices(st *State, c Change) []string {
	set := map[string]struct{}{}
	switch c.Kind {
	case pb.Kind_KIND_SERVICES:
		for _, k := range c.Changed {
			set[k] = struct{}{}
		}
		for _, k := range c.Deleted {
			set[k] = struct{}{}
		}
	case pb.Kind_KIND_ENDPOINTSLICES:
		for _, k := range append(append([]string{}, c.Changed...), c.Deleted...) {
			if svc := c.WasService[k]; svc != "" {
				set[svc] = struct{}{}
			}
			if svc := st.SliceService(k); svc != "" {
				set[svc] = struct{}{}
			}
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// dnsDelta is c as a DNS delta: the changed objects as held in st and
// the deleted keys; false when c concerns no kind DNS reads.
func dnsDelta(st *State, c Change) (dns.Delta, bool) {
	var d dns.Delta
	for _, k := range c.Deleted {
		n := nsName(k)
		switch c.Kind {
		case pb.Kind_KIND_SERVICES:
			d.DeletedServices = append(d.DeletedServices, n)
		case pb.Kind_KIND_ENDPOINTSLICES:
			d.DeletedEndpointSlices = append(d.DeletedEndpointSlices, n)
		case pb.Kind_KIND_PODS:
			d.DeletedPods = append(d.DeletedPods, n)
		}
	}
	for _, k := range c.Changed {
		switch c.Kind {
		case pb.Kind_KIND_SERVICES:
			if o, ok := st.Service(k); ok {
				d.Services = append(d.Services, o)
			}
		case pb.Kind_KIND_ENDPOINTSLICES:
			if o, ok := st.Slice(k); ok {
				d.EndpointSlices = append(d.EndpointSlices, o)
			}
		case pb.Kind_KIND_PODS:
			if o, ok := st.Pod(k); ok {
				d.Pods = append(d.Pods, o)
			}
		}
	}
	n := len(d.Services) + len(d.EndpointSlices) + len(d.Pods) + len(d.DeletedServices) + len(d.DeletedEndpointSlices) + len(d.DeletedPods)
	return d, n > 0
}

func nsName(key string) types.NamespacedName {
	ns, name, _ := strings.Cut(key, "/")
	return types.NamespacedName{Namespace: ns, Name: name}
}

// ResyncDue reports whether the safety-net Resync should run at now: the
// reconciler has synced once, and every interval has passed since the
// last full sync, or minGap has after a delta the dataplane failed.
func (r *Reconciler) ResyncDue(now time.Time, interval, minGap time.Duration) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ports == nil {
		return false
	}
	since := now.Sub(r.lastFull)
	return since >= interval || (r.failed && since >= minGap)
}

// Resync is the safety net under the deltas: a full dataplane Resync of
// the objects objects returns (called with the reconciler locked, so no
// change is applied between reading them and programming them). It does
// nothing before the first full Sync. The drift it repairs is counted by
// the dataplane (weir_dataplane_resync_repairs_total) and returned.
func (r *Reconciler) Resync(ctx context.Context, objects func() ([]corev1.Service, []discoveryv1.EndpointSlice)) (dataplane.SyncStats, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ports == nil {
		return dataplane.SyncStats{}, nil
	}
	svcs, slices := objects()
	stats, _, err := r.sync(ctx, svcs, slices, true) // conversion errors were NACKed when they arrived
	return stats, err
}

// resyncAfterFailure is how soon after a change the dataplane failed the
// safety-net Resync runs (at most; the interval, when shorter).
const resyncAfterFailure = 30 * time.Second

// resyncLoop runs the reconciler's safety-net Resync when it is due, off
// the stream loop, until ctx ends; it works with or without the control
// plane (the state last held is what the dataplane should serve).
func (a *Agent) resyncLoop(ctx context.Context) {
	interval := a.cfg.ResyncInterval
	gap := min(resyncAfterFailure, interval)
	t := time.NewTicker(min(gap/2, 5*time.Second))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if !a.rec.ResyncDue(now, interval, gap) {
				continue
			}
			stats, err := a.rec.Resync(ctx, func() ([]corev1.Service, []discoveryv1.EndpointSlice) {
				a.mu.Lock()
				defer a.mu.Unlock()
				return a.state.Services(), a.state.Slices()
			})
			switch repaired := stats.Added + stats.Updated + stats.Removed; {
			case err != nil:
				a.log.Warn("dataplane resync failed; retrying", "error", err, "retry", gap)
			case repaired > 0:
				a.log.Warn("dataplane resync repaired drift the changes missed", "groups", repaired, "added", stats.Added,
					"updated", stats.Updated, "removed", stats.Removed, "duration", stats.Duration)
			default:
				a.log.Debug("dataplane resync: no drift", "services", stats.Services, "duration", stats.Duration)
			}
		}
	}
}
