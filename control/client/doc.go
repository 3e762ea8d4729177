// Package client is the Go client of the weir control plane's REST API and
// the logic behind the `weir` CLI's client commands.
//
// It owns:
//   - Config: the client configuration file (~/.weir/config, YAML with server
//     and token, mode 0600) and its precedence: flags over WEIR_SERVER /
//     WEIR_TOKEN over the file.
//   - Client: a JSON REST client for the Kubernetes-shaped API (Get, List,
//     Create, Update, Delete, Watch by group/version/resource, namespace and
//     name; DeleteWith for a propagationPolicy, ParseCascade for kubectl's
//     --cascade values) on unstructured objects, with bearer-token auth and per-request
//     timeouts. Server errors come back as *StatusError, which carries the
//     server's metav1.Status and satisfies apimachinery's APIStatus, so
//     k8s.io/apimachinery/pkg/api/errors.IsNotFound and friends work on it.
//   - Discovery: resolving what a user types (po, svc, deploy, pods,
//     deployments.apps, Pod) or a manifest's apiVersion/kind to a Resource,
//     from the server's discovery documents, cached for the Client's life.
//   - Apply: create-or-update with a three-way merge against the last
//     applied configuration (the kubectl annotation), retried on conflicts.
//   - Manifests: multi-document YAML/JSON from files, directories and stdin.
//   - weir's own endpoints: members and snapshots.
//   - Workloads: Deployment rollouts (status followed through a watch with
//     kubectl's messages, history from the owned ReplicaSets' revision
//     annotations, undo, restart) and scaling Deployments and ReplicaSets
//     through their scale subresource, with a current-replicas
//     precondition.
//
// Promises: no goroutines are started (a Watcher is read by its caller with
// Next and ends with Close or its context); every request ends within the
// configured timeout except watches and snapshot streams, which end with
// their context.
//
// Tests: `go test ./control/client/...`. Unit tests cover config
// precedence, discovery resolution, Status decoding, manifest decoding
// (with a fuzz test) and the apply merge; the end-to-end tests run a real
// store and API server over httptest.
package client
