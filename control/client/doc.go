// Package client is the Go client of the weir control plane's Kubernetes
// API and the logic behind the `weir` CLI's client commands. It is built
// on client-go; it holds no HTTP code of its own.
//
// It owns:
//   - Config: where the client finds the server, CA and token: a kubeconfig
//     (read with client-go's clientcmd; Kubeconfig writes one) or weir's
//     older ~/.weir/config; ResolveConfig documents which file wins, then
//     flags over WEIR_SERVER / WEIR_TOKEN over the file. A bare HOST:PORT
//     server means https. RESTConfig turns it into a client-go rest.Config.
//   - Client: one client-go stack per Config: the typed clientset (Kube;
//     scale, rollout, logs and describe's events), the dynamic client (Get,
//     List, Create, Update, Delete, DeleteWith, Watch by
//     group/version/resource on unstructured objects) and a RESTMapper over
//     memory-cached discovery (ResolveResource: po, svc, deploy.apps, Pod...
//     with the server's short names; ResourceForKind for manifests; both
//     explain what the server serves when nothing matches). Server errors
//     come back as client-go's *apierrors.StatusError (apierrors.IsNotFound
//     and friends work on them); FormatError prints any error the way
//     kubectl prints a server's Status ("Error from server (NotFound):
//     ..."). A refused connection says to check --server.
//   - Tables: Table and WatchTable ask the server for kube-apiserver's
//     Tables (Accept as kubectl sends it, TableAccept); `weir get` prints
//     them with package printers. A watch whose server sends objects, not
//     Table rows, yields the objects (TableEvent.Object).
//   - Apply: server-side apply (application/apply-patch+yaml) as field
//     manager "weir", forcing conflicts only when asked; the outcome
//     (created, configured, unchanged) is read from the object before and
//     after. Races with other appliers (AlreadyExists, plain Conflicts) are
//     retried; a field-manager conflict is returned with what to do.
//   - Manifests: multi-document YAML/JSON from files, directories and stdin.
//   - weir's own endpoints (/weir/v1 members and snapshots) and the exec
//     stream through client-go's RESTClient (AbsPath).
//   - Workloads: Deployment rollouts (status followed through a typed watch
//     with kubectl's messages, history from the owned ReplicaSets' revision
//     annotations, undo, restart) and scaling Deployments and ReplicaSets
//     through their scale subresource, with a current-replicas
//     precondition.
//
// Promises: no goroutines of its own (client-go's watches run theirs and
// end with Close or their context); every request ends within
// Config.Timeout except watches, log follows, exec and snapshot streams,
// which end with their context.
//
// Tests: `go test ./control/client/...`. Unit tests cover config
// precedence, events order, manifest decoding (with a fuzz test) and the
// snapshot error body; the end-to-end tests run a real store and API
// server over httptest (no root needed).
package client
