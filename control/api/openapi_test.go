package api_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	openapi_v3 "github.com/google/gnostic-models/openapiv3"
	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/openapi3"
	"k8s.io/kube-openapi/pkg/spec3"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// gvkOf reads an x-kubernetes-group-version-kind extension as a list.
func gvkOf(t *testing.T, ext spec.Extensions) []map[string]any {
	t.Helper()
	v, ok := ext["x-kubernetes-group-version-kind"]
	if !ok {
		return nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var list []map[string]any
	if json.Unmarshal(data, &list) != nil {
		var one map[string]any
		if err := json.Unmarshal(data, &one); err != nil {
			t.Fatalf("extension %s: %v", data, err)
		}
		list = []map[string]any{one}
	}
	return list
}

func hasGVK(t *testing.T, ext spec.Extensions, group, version, kind string) bool {
	for _, g := range gvkOf(t, ext) {
		if g["group"] == group && g["version"] == version && g["kind"] == kind {
			return true
		}
	}
	return false
}

func TestOpenAPIV2(t *testing.T) {
	e := newEnv(t)

	// client-go's discovery client asks for the protobuf form, as kubectl does.
	dc := discovery.NewDiscoveryClientForConfigOrDie(e.restConfig(runtime.ContentTypeJSON))
	doc, err := dc.OpenAPISchema()
	if err != nil {
		t.Fatalf("OpenAPISchema: %v", err)
	}
	protoDefs := map[string]bool{}
	for _, d := range doc.GetDefinitions().GetAdditionalProperties() {
		protoDefs[d.GetName()] = true
	}
	for _, name := range []string{"io.k8s.api.core.v1.Pod", "io.k8s.api.apps.v1.Deployment", "io.k8s.api.core.v1.Container"} {
		if !protoDefs[name] {
			t.Errorf("protobuf v2 document lacks definition %s", name)
		}
	}

	r := e.req(http.MethodGet, "/openapi/v2", nil, "Accept: application/json").must(t, http.StatusOK)
	var sw spec.Swagger
	if err := json.Unmarshal(r.body, &sw); err != nil {
		t.Fatalf("parse v2: %v", err)
	}
	if sw.Swagger != "2.0" {
		t.Fatalf("swagger = %q", sw.Swagger)
	}
	for name, gvk := range map[string][3]string{
		"io.k8s.api.core.v1.Pod":                             {"", "v1", "Pod"},
		"io.k8s.api.core.v1.PodList":                         {"", "v1", "PodList"},
		"io.k8s.api.apps.v1.Deployment":                      {"apps", "v1", "Deployment"},
		"io.k8s.api.batch.v1.Job":                            {"batch", "v1", "Job"},
		"io.k8s.api.discovery.v1.EndpointSlice":              {"discovery.k8s.io", "v1", "EndpointSlice"},
		"io.k8s.api.autoscaling.v1.Scale":                    {"autoscaling", "v1", "Scale"},
		"io.k8s.apimachinery.pkg.apis.meta.v1.Status":        {"", "v1", "Status"},
		"io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions": {"apps", "v1", "DeleteOptions"},
		"io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent":    {"", "v1", "WatchEvent"},
	} {
		d, ok := sw.Definitions[name]
		if !ok {
			t.Errorf("no definition %s", name)
			continue
		}
		if !hasGVK(t, d.Extensions, gvk[0], gvk[1], gvk[2]) {
			t.Errorf("%s: x-kubernetes-group-version-kind %v lacks %v", name, gvkOf(t, d.Extensions), gvk)
		}
	}
	for _, name := range []string{"io.k8s.api.core.v1.PodSpec", "io.k8s.apimachinery.pkg.apis.meta.v1.Patch",
		"io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList", "io.k8s.apimachinery.pkg.util.intstr.IntOrString"} {
		if _, ok := sw.Definitions[name]; !ok {
			t.Errorf("no definition %s", name)
		}
	}
	if _, ok := sw.Definitions["io.k8s.api.networking.v1.Ingress"]; ok {
		t.Error("the document defines Ingress, which is not served")
	}

	type opAt struct {
		*spec.Operation
		path, method string
	}
	ops := map[string]opAt{}
	for path, item := range sw.Paths.Paths {
		for method, op := range map[string]*spec.Operation{"GET": item.Get, "POST": item.Post, "PUT": item.Put,
			"PATCH": item.Patch, "DELETE": item.Delete} {
			if op == nil {
				continue
			}
			if strings.HasPrefix(op.ID, "deletecollection") {
				t.Errorf("%s %s: %s, which the API does not serve", method, path, op.ID)
			}
			ops[op.ID] = opAt{op, path, method}
		}
	}
	opParams := func(op opAt) []string {
		var names []string
		for _, p := range append(append([]spec.Parameter(nil), sw.Paths.Paths[op.path].Parameters...), op.Parameters...) {
			if p.Ref.String() != "" { // shared parameters, deduplicated to #/parameters/
				name := strings.TrimPrefix(p.Ref.String(), "#/parameters/")
				p = sw.Parameters[name]
			}
			names = append(names, p.In+":"+p.Name)
		}
		return names
	}
	for _, c := range []struct {
		id, method, path, action string
		gvk                      [3]string
		params                   []string
	}{
		{"readCoreV1NamespacedPod", "GET", "/api/v1/namespaces/{namespace}/pods/{name}", "get", [3]string{"", "v1", "Pod"},
			[]string{"path:name", "path:namespace", "query:pretty"}},
		{"listCoreV1PodForAllNamespaces", "GET", "/api/v1/pods", "list", [3]string{"", "v1", "Pod"},
			[]string{"query:labelSelector", "query:fieldSelector", "query:limit", "query:continue", "query:resourceVersion",
				"query:resourceVersionMatch", "query:sendInitialEvents", "query:timeoutSeconds", "query:watch", "query:allowWatchBookmarks", "query:pretty"}},
		{"createCoreV1Namespace", "POST", "/api/v1/namespaces", "post", [3]string{"", "v1", "Namespace"},
			[]string{"body:body", "query:dryRun", "query:fieldManager", "query:fieldValidation"}},
		{"patchAppsV1NamespacedDeployment", "PATCH", "/apis/apps/v1/namespaces/{namespace}/deployments/{name}", "patch",
			[3]string{"apps", "v1", "Deployment"},
			[]string{"body:body", "query:dryRun", "query:fieldManager", "query:fieldValidation", "query:force", "query:pretty"}},
		{"replaceAppsV1NamespacedDeploymentScale", "PUT", "/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale", "put",
			[3]string{"autoscaling", "v1", "Scale"}, []string{"body:body", "query:fieldValidation"}},
		{"patchCoreV1NodeStatus", "PATCH", "/api/v1/nodes/{name}/status", "patch", [3]string{"", "v1", "Node"}, []string{"query:fieldValidation"}},
		{"createCoreV1NamespacedPodBinding", "POST", "/api/v1/namespaces/{namespace}/pods/{name}/binding", "post",
			[3]string{"", "v1", "Binding"}, []string{"body:body"}},
		{"readCoreV1NamespacedPodLog", "GET", "/api/v1/namespaces/{namespace}/pods/{name}/log", "get",
			[3]string{"", "v1", "Pod"}, []string{"query:container", "query:follow", "query:tailLines"}},
		{"connectCoreV1PostNamespacedPodExec", "POST", "/api/v1/namespaces/{namespace}/pods/{name}/exec", "connect",
			[3]string{"", "v1", "PodExecOptions"}, []string{"query:command", "query:container", "query:stdin"}},
		{"deleteBatchV1NamespacedJob", "DELETE", "/apis/batch/v1/namespaces/{namespace}/jobs/{name}", "delete",
			[3]string{"batch", "v1", "Job"}, []string{"body:body", "query:propagationPolicy", "query:gracePeriodSeconds", "query:dryRun"}},
	} {
		op, ok := ops[c.id]
		if !ok {
			t.Errorf("no operation %s", c.id)
			continue
		}
		if op.path != c.path || op.method != c.method {
			t.Errorf("%s: %s %s, want %s %s", c.id, op.method, op.path, c.method, c.path)
		}
		if a, _ := op.Extensions.GetString("x-kubernetes-action"); a != c.action {
			t.Errorf("%s: x-kubernetes-action %q, want %q", c.id, a, c.action)
		}
		if !hasGVK(t, op.Extensions, c.gvk[0], c.gvk[1], c.gvk[2]) {
			t.Errorf("%s: x-kubernetes-group-version-kind %v, want %v", c.id, gvkOf(t, op.Extensions), c.gvk)
		}
		have := opParams(op)
		for _, p := range c.params {
			if !slices.Contains(have, p) {
				t.Errorf("%s: no parameter %s in %v", c.id, p, have)
			}
		}
	}
	patch := ops["patchAppsV1NamespacedDeployment"]
	for _, ct := range []string{"application/json-patch+json", "application/merge-patch+json",
		"application/strategic-merge-patch+json", "application/apply-patch+yaml"} {
		if patch.Operation != nil && !slices.Contains(patch.Consumes, ct) {
			t.Errorf("PATCH consumes %v, lacks %s", patch.Consumes, ct)
		}
	}

	// Cached by ETag, like kube-apiserver.
	etag := r.header.Get("Etag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	e.req(http.MethodGet, "/openapi/v2", nil, "Accept: application/json", "If-None-Match: "+etag).must(t, http.StatusNotModified)
	// Authenticated like every API path.
	e.reqToken("", http.MethodGet, "/openapi/v2", nil).must(t, http.StatusUnauthorized)
	e.reqToken("wrong", http.MethodGet, "/openapi/v3", nil).must(t, http.StatusUnauthorized)
	e.req(http.MethodPost, "/openapi/v2", "{}").must(t, http.StatusMethodNotAllowed)
}

func TestOpenAPIV3(t *testing.T) {
	e := newEnv(t)
	client := discovery.NewDiscoveryClientForConfigOrDie(e.restConfig(runtime.ContentTypeJSON)).OpenAPIV3()
	paths, err := client.Paths()
	if err != nil {
		t.Fatalf("Paths: %v", err)
	}
	for _, p := range []string{"api/v1", "apis/apps/v1", "apis/batch/v1", "apis/discovery.k8s.io/v1", "api", "apis", "apis/apps", "version"} {
		if _, ok := paths[p]; !ok {
			t.Errorf("/openapi/v3 lacks %s (has %v)", p, slices.Sorted(maps.Keys(paths)))
		}
	}

	root := openapi3.NewRoot(client)
	gvs, err := root.GroupVersions()
	if err != nil {
		t.Fatalf("GroupVersions: %v", err)
	}
	if !slices.Contains(gvs, schema.GroupVersion{Group: "apps", Version: "v1"}) {
		t.Errorf("GroupVersions %v lacks apps/v1", gvs)
	}
	for _, c := range []struct {
		gv        schema.GroupVersion
		model     string
		gvk       [3]string
		patchPath string
	}{
		{schema.GroupVersion{Version: "v1"}, "io.k8s.api.core.v1.Pod", [3]string{"", "v1", "Pod"}, "/api/v1/namespaces/{namespace}/pods/{name}"},
		{schema.GroupVersion{Group: "apps", Version: "v1"}, "io.k8s.api.apps.v1.Deployment", [3]string{"apps", "v1", "Deployment"},
			"/apis/apps/v1/namespaces/{namespace}/deployments/{name}"},
	} {
		doc, err := root.GVSpec(c.gv)
		if err != nil {
			t.Fatalf("GVSpec %s: %v", c.gv, err)
		}
		s := doc.Components.Schemas[c.model]
		if s == nil {
			t.Errorf("%s: no schema %s", c.gv, c.model)
			continue
		}
		if !hasGVK(t, s.Extensions, c.gvk[0], c.gvk[1], c.gvk[2]) {
			t.Errorf("%s: %s has GVKs %v", c.gv, c.model, gvkOf(t, s.Extensions))
		}
		// kubectl's QueryParamVerifier: the PATCH of the kind carries fieldValidation.
		p := doc.Paths.Paths[c.patchPath]
		if p == nil || p.Patch == nil {
			t.Fatalf("%s: no PATCH at %s", c.gv, c.patchPath)
		}
		if !hasGVK(t, p.Patch.Extensions, c.gvk[0], c.gvk[1], c.gvk[2]) {
			t.Errorf("%s: PATCH GVK %v", c.gv, gvkOf(t, p.Patch.Extensions))
		}
		if !slices.ContainsFunc(p.Patch.Parameters, func(pp *spec3.Parameter) bool { return pp.Name == "fieldValidation" && pp.In == "query" }) {
			t.Errorf("%s: PATCH lacks the fieldValidation query parameter", c.gv)
		}
		if p.Patch.RequestBody == nil || p.Patch.RequestBody.Content["application/strategic-merge-patch+json"] == nil {
			t.Errorf("%s: PATCH request body %+v", c.gv, p.Patch.RequestBody)
		}
		// A document holds only its group-version's paths, and narrows the
		// shared meta kinds to itself and core/v1.
		for path := range doc.Paths.Paths {
			if !strings.HasPrefix(path, "/"+gvPath(c.gv)+"/") {
				t.Errorf("%s document has path %s", c.gv, path)
			}
		}
		if d := doc.Components.Schemas["io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"]; d != nil {
			for _, g := range gvkOf(t, d.Extensions) {
				if !(g["group"] == c.gv.Group && g["version"] == c.gv.Version || g["group"] == "" && g["version"] == "v1") {
					t.Errorf("%s: DeleteOptions has GVK %v", c.gv, g)
				}
			}
		}
	}

	// The protobuf form kubectl may ask for.
	apps := paths["apis/apps/v1"]
	pb, err := apps.Schema("application/com.github.proto-openapi.spec.v3@v1.0+protobuf")
	if err != nil {
		t.Fatalf("protobuf v3: %v", err)
	}
	var pdoc openapi_v3.Document
	if err := proto.Unmarshal(pb, &pdoc); err != nil {
		t.Fatalf("parse protobuf v3: %v", err)
	}
	found := false
	for _, s := range pdoc.GetComponents().GetSchemas().GetAdditionalProperties() {
		found = found || s.GetName() == "io.k8s.api.apps.v1.Deployment"
	}
	if !found {
		t.Error("protobuf v3 apps/v1 document lacks Deployment")
	}

	// ?hash= pins a version: the current one is cached for good, a stale
	// one redirects to the current one; an unknown document is a 404.
	url := apps.ServerRelativeURL()
	r := e.req(http.MethodGet, url, nil, "Accept: application/json").must(t, http.StatusOK)
	if !strings.Contains(r.header.Get("Cache-Control"), "immutable") {
		t.Errorf("Cache-Control %q", r.header.Get("Cache-Control"))
	}
	stale, _ := http.NewRequest(http.MethodGet, e.http.URL+"/openapi/v3/apis/apps/v1?hash=0123", nil)
	stale.Header.Set("Authorization", "Bearer "+testToken)
	noRedirect := *e.http.Client()
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := noRedirect.Do(stale)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != url {
		t.Errorf("stale hash: %d to %q, want 301 to %q", res.StatusCode, res.Header.Get("Location"), url)
	}
	e.req(http.MethodGet, "/openapi/v3/apis/networking.k8s.io/v1", nil).status(t, http.StatusNotFound, "NotFound")
}

func gvPath(gv schema.GroupVersion) string {
	if gv.Group == "" {
		return "api/" + gv.Version
	}
	return "apis/" + gv.Group + "/" + gv.Version
}
