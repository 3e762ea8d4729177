package openapi

import (
	"strings"
	"testing"
)

func TestBuildRefusesWhatItCannotDescribe(t *testing.T) {
	for _, c := range []struct {
		r    Resource
		want string
	}{
		{Resource{Version: "v1", Kind: "Pod", Plural: "pods", Namespaced: true, Subresources: []string{"ephemeralcontainers"}}, `subresource "ephemeralcontainers"`},
		{Resource{Group: "networking.k8s.io", Version: "v1", Kind: "Ingress", Plural: "ingresses", Namespaced: true}, "networking.k8s.io/v1 has no registered types"},
		{Resource{Group: "apps", Version: "v1", Kind: "Widget", Plural: "widgets"}, "Widget"},
	} {
		_, err := Build([]Resource{c.r}, "v1.37.0")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Build(%s): err %v, want one with %q", c.r.Plural, err, c.want)
		}
	}
}

func TestBuildClusterScoped(t *testing.T) {
	specs, err := Build([]Resource{{Version: "v1", Kind: "Node", Plural: "nodes", Subresources: []string{"status"}}}, "v1.37.0")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"/api/v1/nodes":               "listCoreV1Node",
		"/api/v1/nodes/{name}":        "readCoreV1Node",
		"/api/v1/nodes/{name}/status": "readCoreV1NodeStatus",
		"/api/v1/":                    "getCoreV1APIResources",
		"/api/":                       "getCoreAPIVersions",
		"/apis/":                      "getAPIVersions",
		"/version":                    "getCodeVersion",
	}
	for path, id := range want {
		item, ok := specs.V2.Paths.Paths[path]
		if !ok || item.Get == nil || item.Get.ID != id {
			t.Errorf("GET %s: %+v, want operation %s", path, item.Get, id)
		}
	}
	if item := specs.V2.Paths.Paths["/api/v1/nodes"]; item.Post == nil || item.Post.ID != "createCoreV1Node" {
		t.Errorf("POST /api/v1/nodes: %+v", item.Post)
	}
	if _, ok := specs.V2.Paths.Paths["/api/v1/namespaces/{namespace}/nodes"]; ok {
		t.Error("a cluster-scoped kind has a namespaced path")
	}
	if len(specs.V3) != 4 { // api/v1, api, apis, version
		t.Errorf("v3 documents %d, want 4", len(specs.V3))
	}
}
