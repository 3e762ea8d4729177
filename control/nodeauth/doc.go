// Package nodeauth is weir's Node authorizer: an
// authorizer.Authorizer (k8s.io/apiserver) for the users
// system:node:NAME in group system:nodes, modelled on kube-apiserver's.
//
// A node may:
//   - get, list and watch nodes, services, endpoints and endpointslices;
//     create nodes and update/patch its own Node and its status (the
//     API's NodeRestriction admission checks the object's name and
//     labels);
//   - get (or list/watch by name) the Secrets, ConfigMaps,
//     PersistentVolumeClaims and ServiceAccounts referenced by pods bound
//     to it, and create tokens for those ServiceAccounts;
//   - get (or list/watch by name) the PersistentVolumes those claims are
//     bound to (spec.volumeName); list and watch its local-path volumes
//     (label selector weir.dev/local-path-node=NAME) and get, update and
//     patch them (the agent removes their directory, then their
//     finalizer);
//   - get its own pods; list and watch pods only with the field selector
//     spec.nodeName=NAME; update/patch the status of its own pods;
//   - create and update events, and its own Lease in kube-node-lease.
//
// Everything else, and every other user, is NoOpinion, so that a later
// authorizer (RBAC) may still decide.
//
// Which objects a node's pods reference is a Graph fed by the store's
// watches of pods, PersistentVolumeClaims and PersistentVolumes (list, then watch from the list's revision, relisting
// when the history is gone), never a store read per request. Until the
// first list is loaded, the graph holds nothing and grants nothing
// object-specific.
//
// # Testing
//
//	go test ./control/nodeauth/   # real store (storetest), ~2 s
package nodeauth
