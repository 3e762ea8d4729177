package client

import (
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Resource is one API resource as the server's discovery describes it.
type Resource struct {
	Group        string
	Version      string
	Name         string // plural, e.g. "pods"
	SingularName string // e.g. "pod"
	Kind         string // e.g. "Pod"
	Namespaced   bool
	ShortNames   []string
	Verbs        []string
}

// GVR is the resource's group/version/resource.
func (r Resource) GVR() schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: r.Group, Version: r.Version, Resource: r.Name}
}

// GVK is the resource's group/version/kind.
func (r Resource) GVK() schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: r.Group, Version: r.Version, Kind: r.Kind}
}

// GroupResource is the plural qualified by group: "pods",
// "deployments.apps".
func (r Resource) GroupResource() string {
	return qualify(r.Name, r.Group)
}

// TypeName is how kubectl names the type in messages: the lower-case
// singular qualified by group: "pod", "deployment.apps".
func (r Resource) TypeName() string {
	s := r.SingularName
	if s == "" {
		s = strings.ToLower(r.Kind)
	}
	return qualify(s, r.Group)
}

func qualify(name, group string) string {
	if group == "" {
		return name
	}
	return name + "." + group
}
