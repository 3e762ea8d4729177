package nodee2e

import (
	"context"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	gvrNamespaces = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	gvrNodes      = schema.GroupVersionResource{Version: "v1", Resource: "nodes"}
	gvrServices   = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	gvrSlices     = schema.GroupVersionResource{Group: "discovery.k8s.io", Version: "v1", Resource: "endpointslices"}
)

// service is a selector-less ClusterIP Service NAME on port 80 -> 8080.
func service(name, clusterIP string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": name, "namespace": "default"},
		"spec": map[string]any{"clusterIP": clusterIP, "ports": []any{
			map[string]any{"name": "http", "port": int64(80), "protocol": "TCP", "targetPort": int64(8080)}}},
	}}
}

// slice is an EndpointSlice of service svc with ready endpoints ips:8080.
func slice(name, svc string, ips ...string) *unstructured.Unstructured {
	eps := []any{}
	for _, ip := range ips {
		eps = append(eps, map[string]any{"addresses": []any{ip}, "conditions": map[string]any{"ready": true}})
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
		"metadata":    map[string]any{"name": name, "namespace": "default", "labels": map[string]any{"kubernetes.io/service-name": svc}},
		"addressType": "IPv4",
		"ports":       []any{map[string]any{"name": "http", "port": int64(8080), "protocol": "TCP"}},
		"endpoints":   eps,
	}}
}

func (c *cluster) create(t *testing.T, gvr schema.GroupVersionResource, obj *unstructured.Unstructured) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if _, err := c.api.Create(ctx, gvr, "default", obj); err != nil {
		t.Fatalf("create %s %s: %v", gvr.Resource, obj.GetName(), err)
	}
}

// nodeReady reports whether Node name has Ready=True and its pod CIDR.
func (c *cluster) nodeReady(name string) (bool, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	obj, err := c.api.Get(ctx, gvrNodes, "", name)
	if err != nil {
		return false, ""
	}
	cidr, _, _ := unstructured.NestedString(obj.Object, "spec", "podCIDR")
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, cd := range conds {
		m, _ := cd.(map[string]any)
		if m["type"] == "Ready" {
			return m["status"] == "True" && cidr != "", cidr
		}
	}
	return false, cidr
}
