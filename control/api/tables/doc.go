// Package tables is weir's server-side printing: it turns the typed
// objects and lists the API serves into the metav1.Table that kubectl asks
// for (Accept: application/json;as=Table;v=v1;g=meta.k8s.io) and prints.
//
// What it owns: the column definitions (name, type, format, description,
// priority) and the cells of each kind, as kube-apiserver's printers
// (kubernetes pkg/printers/internalversion) compute them at the k8s.io
// release weir builds against: Pod, Node, Namespace, Service, Endpoints,
// ServiceAccount, ConfigMap, Secret, Event, PersistentVolumeClaim,
// ResourceQuota (core/v1); EndpointSlice (discovery/v1); Deployment,
// ReplicaSet, DaemonSet, StatefulSet (apps/v1); Job, CronJob (batch/v1);
// NetworkPolicy; RoleBinding, ClusterRoleBinding; Lease;
// PodDisruptionBudget. Every other kind (Role, ClusterRole, LimitRange,
// ...) gets kube-apiserver's default table: Name, Created At (RFC 3339).
//
// What it promises: Convert(obj, Options) returns what kube-apiserver
// returns for the same object: all columns, wide ones (priority 1) too,
// because the server always prints wide and kubectl hides them unless -o
// wide; integer cells as int64; rows' objects as TableOptions.includeObject
// asks (PartialObjectMetadata by default, the whole object with apiVersion
// and kind, or none); the list's resourceVersion, continue and
// remainingItemCount (a single object's resourceVersion). Ages are
// duration.HumanDuration from Options.Now. Where a printer reads a field
// kube-apiserver always defaults (spec.replicas 1, service clusterIPs from
// clusterIP, service type ClusterIP, pod podIPs from podIP, port protocol
// TCP, cronjob suspend false, PVC volumeMode Filesystem), an unset field
// prints as the default.
// Errors are apimachinery StatusErrors: 400 for an unknown includeObject,
// 406 for a Table version other than meta.k8s.io v1/v1beta1 or an object
// without metadata. Convert never modifies obj.
//
// It does not negotiate content types nor parse TableOptions from a
// request; the API's codec layer does (kube-apiserver decodes them from
// the query with metainternalversionscheme.ParameterCodec and validates
// them), and calls Convert. In a watch, kube-apiserver converts each
// event's object alone and sends the column definitions with the first
// event only: NoHeaders for the later ones.
//
// Testing: `go test ./control/api/tables` compares each kind's columns and
// cells with kube-apiserver's (table tests), and the rendered tables with
// testdata/*.txt (`-update` rewrites them); when kubectl is installed, it
// serves the tables on 127.0.0.1 to the real kubectl, whose `get` and
// `get -o wide` output must be the testdata text.
package tables
