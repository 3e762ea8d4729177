package manifest

import (
	"path"
	"strings"
)

// Kind describes one resource kind weir serves.
type Kind struct {
	Group      string // "" for the core group
	Version    string
	Kind       string
	Plural     string
	Singular   string
	ShortNames []string
	Namespaced bool
}

// APIVersion is the kind's apiVersion as written in manifests: "v1",
// "apps/v1".
func (k Kind) APIVersion() string {
	if k.Group == "" {
		return k.Version
	}
	return k.Group + "/" + k.Version
}

// Resource is the plural qualified with the group for non-core groups
// ("pods", "deployments.apps"): the store's resource name and the form
// users may type on the command line.
func (k Kind) Resource() string {
	if k.Group == "" {
		return k.Plural
	}
	return k.Plural + "." + k.Group
}

// GroupVersionPath is the URL prefix of the kind's API group version:
// "/api/v1" or "/apis/apps/v1".
func (k Kind) GroupVersionPath() string {
	if k.Group == "" {
		return "/api/" + k.Version
	}
	return "/apis/" + k.Group + "/" + k.Version
}

// CollectionPath is the URL of the kind's collection in namespace ns (all
// namespaces, or the cluster-scoped collection, when ns is "").
func (k Kind) CollectionPath(ns string) string {
	if k.Namespaced && ns != "" {
		return path.Join(k.GroupVersionPath(), "namespaces", ns, k.Plural)
	}
	return path.Join(k.GroupVersionPath(), k.Plural)
}

// ObjectPath is the URL of one object.
func (k Kind) ObjectPath(ns, name string) string {
	return k.CollectionPath(ns) + "/" + name
}

// kinds is the fixed table of served kinds. It is never modified; Kinds
// hands out copies.
var kinds = []Kind{
	{"", "v1", "Namespace", "namespaces", "namespace", []string{"ns"}, false},
	{"", "v1", "Node", "nodes", "node", []string{"no"}, false},
	{"", "v1", "Pod", "pods", "pod", []string{"po"}, true},
	{"", "v1", "Service", "services", "service", []string{"svc"}, true},
	{"", "v1", "Endpoints", "endpoints", "endpoints", []string{"ep"}, true},
	{"", "v1", "ServiceAccount", "serviceaccounts", "serviceaccount", []string{"sa"}, true},
	{"", "v1", "ConfigMap", "configmaps", "configmap", []string{"cm"}, true},
	{"", "v1", "Secret", "secrets", "secret", nil, true},
	{"", "v1", "Event", "events", "event", []string{"ev"}, true},
	{"", "v1", "ResourceQuota", "resourcequotas", "resourcequota", []string{"quota"}, true},
	{"", "v1", "LimitRange", "limitranges", "limitrange", []string{"limits"}, true},
	{"", "v1", "PersistentVolume", "persistentvolumes", "persistentvolume", []string{"pv"}, false},
	{"", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", "persistentvolumeclaim", []string{"pvc"}, true},
	{"discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", "endpointslice", nil, true},
	{"apps", "v1", "Deployment", "deployments", "deployment", []string{"deploy"}, true},
	{"apps", "v1", "ReplicaSet", "replicasets", "replicaset", []string{"rs"}, true},
	{"apps", "v1", "DaemonSet", "daemonsets", "daemonset", []string{"ds"}, true},
	{"apps", "v1", "StatefulSet", "statefulsets", "statefulset", []string{"sts"}, true},
	{"apps", "v1", "ControllerRevision", "controllerrevisions", "controllerrevision", nil, true},
	{"batch", "v1", "Job", "jobs", "job", nil, true},
	{"batch", "v1", "CronJob", "cronjobs", "cronjob", []string{"cj"}, true},
	{"policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", "poddisruptionbudget", []string{"pdb"}, true},
	{"storage.k8s.io", "v1", "StorageClass", "storageclasses", "storageclass", []string{"sc"}, false},
	{"coordination.k8s.io", "v1", "Lease", "leases", "lease", nil, true},
	{"rbac.authorization.k8s.io", "v1", "Role", "roles", "role", nil, true},
	{"rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", "rolebinding", nil, true},
	{"rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", "clusterrole", nil, false},
	{"rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", "clusterrolebinding", nil, false},
}

// Kinds returns the served kinds in a stable order.
func Kinds() []Kind {
	out := make([]Kind, len(kinds))
	for i, k := range kinds {
		k.ShortNames = append([]string(nil), k.ShortNames...)
		out[i] = k
	}
	return out
}

// Lookup finds a kind by any name a user may type, case-insensitively:
// kind ("Pod"), plural ("pods"), singular ("pod"), short name ("po") or
// group-qualified plural ("deployments.apps").
func Lookup(name string) (Kind, bool) {
	n := strings.ToLower(name)
	for _, k := range Kinds() {
		if n == strings.ToLower(k.Kind) || n == k.Plural || n == k.Singular || n == k.Resource() {
			return k, true
		}
		for _, s := range k.ShortNames {
			if n == s {
				return k, true
			}
		}
	}
	return Kind{}, false
}

// ForObject finds the kind of an object by its apiVersion and kind.
func ForObject(apiVersion, kind string) (Kind, bool) {
	for _, k := range Kinds() {
		if k.APIVersion() == apiVersion && k.Kind == kind {
			return k, true
		}
	}
	return Kind{}, false
}
