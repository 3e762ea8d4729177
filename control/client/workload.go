package client

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Workload GVRs the rollout and scale commands act on.
var (
	DeploymentsGVR = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	ReplicaSetsGVR = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "replicasets"}
)

// WorkloadRef names one workload object: its resource and name.
type WorkloadRef struct {
	GVR  schema.GroupVersionResource
	Name string
}

// String names the object as kubectl does: "deployment.apps/web".
func (r WorkloadRef) String() string { return r.TypeName() + "/" + r.Name }

// TypeName is "deployment.apps" or "replicaset.apps".
func (r WorkloadRef) TypeName() string {
	return strings.TrimSuffix(r.GVR.Resource, "s") + "." + r.GVR.Group
}

// workloadNames maps what a user may type to the resource.
var workloadNames = map[string]schema.GroupVersionResource{
	"deployment": DeploymentsGVR, "deployments": DeploymentsGVR, "deploy": DeploymentsGVR,
	"replicaset": ReplicaSetsGVR, "replicasets": ReplicaSetsGVR, "rs": ReplicaSetsGVR,
}

// ParseWorkloadRef reads `TYPE/NAME` or `TYPE NAME` (TYPE: deployment,
// deployments, deploy, optionally .apps; replicaset, replicasets, rs) and
// checks the type is one of allowed (resource plurals, e.g. "deployments").
func ParseWorkloadRef(args []string, allowed ...string) (WorkloadRef, error) {
	example := "e.g. " + strings.TrimSuffix(allowed[0], "s") + "/web"
	var typ, name string
	switch {
	case len(args) == 1 && strings.Contains(args[0], "/"):
		typ, name, _ = strings.Cut(args[0], "/")
	case len(args) == 2 && !strings.Contains(args[0], "/"):
		typ, name = args[0], args[1]
	case len(args) == 0:
		return WorkloadRef{}, fmt.Errorf("name the object, %s", example)
	default:
		return WorkloadRef{}, fmt.Errorf("want one TYPE/NAME or TYPE NAME, got %q: name one object, %s", strings.Join(args, " "), example)
	}
	if name == "" || strings.Contains(name, "/") {
		return WorkloadRef{}, fmt.Errorf("invalid name %q: name one object, %s", name, example)
	}
	gvr, ok := workloadNames[strings.TrimSuffix(strings.ToLower(typ), ".apps")]
	if !ok || !slices.Contains(allowed, gvr.Resource) {
		return WorkloadRef{}, fmt.Errorf("type %q is not supported here (supported: %s): name one object, %s",
			typ, strings.Join(allowed, ", "), example)
	}
	return WorkloadRef{GVR: gvr, Name: name}, nil
}
