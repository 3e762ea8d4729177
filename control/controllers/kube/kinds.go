package kube

import (
	"net/url"
	"strings"
)

// Kind names one served resource collection.
type Kind struct {
	Group, Version, Resource string
	Namespaced               bool
}

// The kinds the scheduler and the controllers use.
var (
	Pods            = Kind{"", "v1", "pods", true}
	Nodes           = Kind{"", "v1", "nodes", false}
	Services        = Kind{"", "v1", "services", true}
	Endpoints       = Kind{"", "v1", "endpoints", true}
	Namespaces      = Kind{"", "v1", "namespaces", false}
	ServiceAccounts = Kind{"", "v1", "serviceaccounts", true}
	Events          = Kind{"", "v1", "events", true}
	EndpointSlices  = Kind{"discovery.k8s.io", "v1", "endpointslices", true}
	Deployments     = Kind{"apps", "v1", "deployments", true}
	ReplicaSets     = Kind{"apps", "v1", "replicasets", true}
	Jobs            = Kind{"batch", "v1", "jobs", true}
)

// path is the REST path of the collection (name ""), an object or one of
// its subresources. An empty namespace means cluster-scoped or all
// namespaces.
func (k Kind) path(ns, name, sub string) string {
	var b strings.Builder
	if k.Group == "" {
		b.WriteString("/api/" + k.Version)
	} else {
		b.WriteString("/apis/" + k.Group + "/" + k.Version)
	}
	if ns != "" && k.Namespaced {
		b.WriteString("/namespaces/" + url.PathEscape(ns))
	}
	b.WriteString("/" + k.Resource)
	if name != "" {
		b.WriteString("/" + url.PathEscape(name))
	}
	if sub != "" {
		b.WriteString("/" + sub)
	}
	return b.String()
}
