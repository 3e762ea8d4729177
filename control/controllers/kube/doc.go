// Package kube is the client-go wiring that the scheduler and the
// controllers share on the raft leader, the way kube-controller-manager
// talks to kube-apiserver.
//
// It owns:
//   - NewClientset: a kubernetes.Interface from a rest.Config (built by
//     control/member) that speaks protobuf, with a client-side rate limit
//     sized for a controller manager.
//   - NewInformerFactory and the indexed informers (Pods, ReplicaSets,
//     Jobs, EndpointSlices, Endpoints): one SharedInformerFactory per
//     leader term, one cache per kind, with the indexes the controllers
//     look up by: pods by node (PodsByNode), dependents by owner UID
//     (ByOwnerUID), slices by service (SlicesByService). Indexed kinds must
//     be reached through these functions, never through the factory's
//     generated accessors, so that the first caller does not register an
//     informer without the indexes.
//   - Recorder: core/v1 Events written synchronously through the
//     clientset, one Event per occurrence, stamped with the caller's clock
//     (weir's controllers pass time in); best effort.
//   - Members: the weir-specific GET /weir/v1/members?probe=true.
//
// Promises: nothing here starts a goroutine; the factory's owner starts it
// and calls Shutdown.
//
// Tests: kubetest starts a real store + API over httptest and returns a
// clientset of it.
package kube
