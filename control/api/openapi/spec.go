package openapi

import (
	"fmt"
	"maps"
	"net/http"
	"sort"
	"strings"

	restful "github.com/emicklei/go-restful/v3"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"
	apiopenapi "k8s.io/apiserver/pkg/endpoints/openapi"
	"k8s.io/kube-openapi/pkg/builder"
	"k8s.io/kube-openapi/pkg/builder3"
	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/handler"
	"k8s.io/kube-openapi/pkg/spec3"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// Resource is one served resource: its kind and the subresources the API
// serves for it ("status", "scale", "binding", "token", "eviction", "log", "exec",
// "attach", "portforward").
type Resource struct {
	Group, Version, Kind, Plural string
	Namespaced                   bool
	Subresources                 []string
}

func (r Resource) gv() schema.GroupVersion {
	return schema.GroupVersion{Group: r.Group, Version: r.Version}
}

// groupVersionPath is "/api/v1" or "/apis/<group>/<version>".
func (r Resource) groupVersionPath() string {
	if r.Group == "" {
		return "/api/" + r.Version
	}
	return "/apis/" + r.Group + "/" + r.Version
}

// Specs are the OpenAPI documents of the API: one v2 document for
// everything, and v3 documents keyed by their path under /openapi/v3
// ("api/v1", "apis/apps/v1", "apis/apps", "api", "apis", "version").
type Specs struct {
	V2 *spec.Swagger
	V3 map[string]*spec3.OpenAPI
}

// Media types the API reads and answers with, and its watch streams.
var (
	mediaTypes  = []string{"application/json", "application/yaml", "application/vnd.kubernetes.protobuf"}
	streamTypes = []string{"application/json;stream=watch", "application/vnd.kubernetes.protobuf;stream=watch"}
	patchTypes  = []string{"application/json-patch+json", "application/merge-patch+json",
		"application/strategic-merge-patch+json", "application/apply-patch+yaml"}
)

// addToScheme registers the k8s.io/api group-versions whose OpenAPI
// definitions are generated (gen.go), for the names and the
// x-kubernetes-group-version-kind extension of their models.
var addToScheme = map[schema.GroupVersion]func(*runtime.Scheme) error{
	corev1.SchemeGroupVersion:           corev1.AddToScheme,
	appsv1.SchemeGroupVersion:           appsv1.AddToScheme,
	batchv1.SchemeGroupVersion:          batchv1.AddToScheme,
	coordinationv1.SchemeGroupVersion:   coordinationv1.AddToScheme,
	discoveryv1.SchemeGroupVersion:      discoveryv1.AddToScheme,
	rbacv1.SchemeGroupVersion:           rbacv1.AddToScheme,
	policyv1.SchemeGroupVersion:         policyv1.AddToScheme,
	storagev1.SchemeGroupVersion:        storagev1.AddToScheme,
	authenticationv1.SchemeGroupVersion: authenticationv1.AddToScheme,
}

// Build makes the OpenAPI v2 and v3 documents of the given resources,
// from the generated definitions, with kube-apiserver's paths,
// operation IDs, parameters, extensions and model names. apiVersion is
// the info.version of the documents.
func Build(resources []Resource, apiVersion string) (*Specs, error) {
	scheme := runtime.NewScheme()
	var groups []string
	for _, r := range resources {
		add, ok := addToScheme[r.gv()]
		if !ok {
			return nil, fmt.Errorf("openapi: group-version %s has no registered types", r.gv())
		}
		if err := add(scheme); err != nil {
			return nil, fmt.Errorf("openapi: register %s: %w", r.gv(), err)
		}
		if r.Group != "" && !contains(groups, r.Group) {
			groups = append(groups, r.Group)
		}
	}
	// The scale subresource speaks autoscaling/v1 Scale, the only
	// autoscaling type served.
	scheme.AddKnownTypes(autoscalingv1.SchemeGroupVersion, &autoscalingv1.Scale{})

	b := &specBuilder{scheme: scheme}
	byGV := map[string]*container{}
	var containers []*container
	for _, r := range resources {
		root := r.groupVersionPath()
		c := byGV[root]
		if c == nil {
			c = &container{root: root}
			c.routes = append(c.routes, &route{method: http.MethodGet, path: root + "/", operation: "getAPIResources",
				doc: "get available resources", consumes: mediaTypes, produces: mediaTypes, writes: &metav1.APIResourceList{}})
			byGV[root] = c
			containers = append(containers, c)
		}
		routes, err := b.routes(r)
		if err != nil {
			return nil, err
		}
		c.routes = append(c.routes, routes...)
	}
	containers = append(containers, discoveryContainers(groups)...)

	namer := apiopenapi.NewDefinitionNamer(scheme)
	info := &spec.Info{InfoProps: spec.InfoProps{Title: "weir", Version: apiVersion}}
	bearer := "BearerToken"
	security := []map[string][]string{{bearer: {}}}
	unauthorized := "Unauthorized"

	defsV2 := GetOpenAPIDefinitions(func(name string) spec.Ref {
		n, _ := namer.GetDefinitionName(name)
		return spec.MustCreateRef("#/definitions/" + common.EscapeJsonPointer(n))
	})
	cfg2 := &common.Config{
		ProtocolList:                   []string{"https"},
		Info:                           info,
		DefaultResponse:                &spec.Response{ResponseProps: spec.ResponseProps{Description: "Default Response."}},
		CommonResponses:                map[int]spec.Response{http.StatusUnauthorized: {ResponseProps: spec.ResponseProps{Description: unauthorized}}},
		GetDefinitions:                 func(common.ReferenceCallback) map[string]common.OpenAPIDefinition { return defsV2 },
		GetOperationIDAndTagsFromRoute: operationIDAndTags,
		GetDefinitionName:              namer.GetDefinitionName,
		SecurityDefinitions: &spec.SecurityDefinitions{bearer: &spec.SecurityScheme{SecuritySchemeProps: spec.SecuritySchemeProps{
			Type: "apiKey", Name: "authorization", In: "header", Description: "Bearer Token authentication"}}},
		DefaultSecurity: security,
	}
	all := make([]common.RouteContainer, len(containers))
	for i, c := range containers {
		all[i] = c
	}
	v2, err := builder.BuildOpenAPISpecFromRoutes(all, cfg2)
	if err != nil {
		return nil, fmt.Errorf("openapi: build v2: %w", err)
	}
	// Models clients meet outside the paths: errors, watch events.
	extra, err := builder.BuildOpenAPIDefinitionsForResources(cfg2,
		metav1.Status{}.OpenAPIModelName(), metav1.WatchEvent{}.OpenAPIModelName())
	if err != nil {
		return nil, fmt.Errorf("openapi: build v2 definitions: %w", err)
	}
	for name, d := range extra.Definitions {
		if _, ok := v2.Definitions[name]; !ok {
			v2.Definitions[name] = d
		}
	}
	v2.Definitions = handler.PruneDefaults(v2.Definitions)

	cfg3 := &common.OpenAPIV3Config{
		Info:                           info,
		DefaultResponse:                &spec3.Response{ResponseProps: spec3.ResponseProps{Description: "Default Response."}},
		CommonResponses:                map[int]*spec3.Response{http.StatusUnauthorized: {ResponseProps: spec3.ResponseProps{Description: unauthorized}}},
		GetOperationIDAndTagsFromRoute: operationIDAndTags,
		GetDefinitionName:              namer.GetDefinitionName,
		SecuritySchemes: spec3.SecuritySchemes{bearer: &spec3.SecurityScheme{SecuritySchemeProps: spec3.SecuritySchemeProps{
			Type: "apiKey", Name: "authorization", In: "header", Description: "Bearer Token authentication"}}},
		DefaultSecurity: security,
	}
	cfg3.Definitions = GetOpenAPIDefinitions(func(name string) spec.Ref {
		n, _ := namer.GetDefinitionName(name)
		return spec.MustCreateRef("#/components/schemas/" + common.EscapeJsonPointer(n))
	})
	v3 := map[string]*spec3.OpenAPI{}
	for _, c := range containers {
		doc, err := builder3.BuildOpenAPISpecFromRoutes([]common.RouteContainer{c}, cfg3)
		if err != nil {
			return nil, fmt.Errorf("openapi: build v3 %s: %w", c.root, err)
		}
		doc.SecurityRequirement = security
		key := strings.TrimPrefix(c.root, "/")
		if g, v, ok := groupVersionOf(key); ok {
			scopeSharedKinds(doc, g, v)
		}
		v3[key] = doc
	}
	return &Specs{V2: v2, V3: v3}, nil
}

// operationIDAndTags names operations as kube-apiserver does:
// "readNamespacedPod" on /api/v1 becomes readCoreV1NamespacedPod, tagged
// core_v1.
func operationIDAndTags(r common.Route) (string, []string, error) {
	return apiopenapi.GetOperationIDAndTags(&restful.Route{Operation: r.OperationName(), Path: r.Path()})
}

// discoveryContainers are the discovery documents the API serves besides
// each group-version's resource list: /api, /apis, /apis/<group> and
// /version.
func discoveryContainers(groups []string) []*container {
	get := func(path, op, doc string, writes any) *container {
		return &container{root: strings.TrimSuffix(path, "/"), routes: []*route{{method: http.MethodGet, path: path,
			operation: op, doc: doc, consumes: mediaTypes, produces: mediaTypes, writes: writes}}}
	}
	out := []*container{
		get("/api/", "getAPIVersions", "get available API versions", &metav1.APIVersions{}),
		get("/apis/", "getAPIVersions", "get available API versions", &metav1.APIGroupList{}),
	}
	sort.Strings(groups)
	for _, g := range groups {
		out = append(out, get("/apis/"+g+"/", "getAPIGroup", "get information of a group", &metav1.APIGroup{}))
	}
	c := get("/version", "getCodeVersion", "get the version information for this server", &version.Info{})
	c.routes[0].consumes, c.routes[0].produces = []string{"application/json"}, []string{"application/json"}
	return append(out, c)
}

// specBuilder makes the routes of resources.
type specBuilder struct {
	scheme *runtime.Scheme
}

const (
	prettyDoc    = "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget)."
	namespaceDoc = "object name and auth scope, such as for teams and projects"
	gvkExtension = "x-kubernetes-group-version-kind"
	actionExt    = "x-kubernetes-action"
)

// sample makes an object of a kind, for the builders to name its model.
func (b *specBuilder) sample(gvk schema.GroupVersionKind) (runtime.Object, error) {
	obj, err := b.scheme.New(gvk)
	if err != nil {
		return nil, fmt.Errorf("openapi: %s: %w", gvk, err)
	}
	return obj, nil
}

// routes lists the operations the API serves on r: list (and watch, as
// ?watch=true), create, read, replace, patch and delete of the objects,
// and those of each subresource.
func (b *specBuilder) routes(r Resource) ([]*route, error) {
	gvk := r.gv().WithKind(r.Kind)
	obj, err := b.sample(gvk)
	if err != nil {
		return nil, err
	}
	list, err := b.sample(r.gv().WithKind(r.Kind + "List"))
	if err != nil {
		return nil, err
	}
	collection := r.groupVersionPath() + "/" + r.Plural
	namespaced, pathParams := "", []param(nil)
	if r.Namespaced {
		collection = r.groupVersionPath() + "/namespaces/{namespace}/" + r.Plural
		namespaced, pathParams = "Namespaced", []param{pathParam("namespace", namespaceDoc)}
	}
	item := collection + "/{name}"
	itemParams := append(append([]param(nil), pathParams...), pathParam("name", "name of the "+r.Kind))
	kind := r.Kind

	listRoute := func(path, op string, params []param) *route {
		return &route{method: http.MethodGet, path: path, operation: op, doc: "list or watch objects of kind " + kind,
			params:   append(append(params, queryParam("pretty", prettyDoc, "string")), optionParams(&metav1.ListOptions{}, nil, nil)...),
			consumes: []string{"*/*"}, produces: append(append([]string(nil), mediaTypes...), streamTypes...),
			meta: meta(gvk, "list"), writes: list, responses: []response{{http.StatusOK, "OK", list}}}
	}
	routes := []*route{listRoute(collection, "list"+namespaced+kind, pathParams)}
	if r.Namespaced {
		routes = append(routes, listRoute(r.groupVersionPath()+"/"+r.Plural, "list"+kind+"ForAllNamespaces", nil))
	}
	routes = append(routes,
		writeRoute(http.MethodPost, collection, "create"+namespaced+kind, "create"+article(kind)+kind, pathParams, &metav1.CreateOptions{}, gvk, obj),
		readRoute(item, "read"+namespaced+kind, "read the specified "+kind, itemParams, gvk, obj),
		writeRoute(http.MethodPut, item, "replace"+namespaced+kind, "replace the specified "+kind, itemParams, &metav1.UpdateOptions{}, gvk, obj),
		writeRoute(http.MethodPatch, item, "patch"+namespaced+kind, "partially update the specified "+kind, itemParams, &metav1.PatchOptions{}, gvk, obj),
		&route{method: http.MethodDelete, path: item, operation: "delete" + namespaced + kind, doc: "delete" + article(kind) + kind,
			params: append(append(append([]param(nil), itemParams...), queryParam("pretty", prettyDoc, "string"), bodyParam(false)),
				optionParams(&metav1.DeleteOptions{}, nil, nil)...),
			consumes: []string{"*/*"}, produces: mediaTypes, meta: meta(gvk, "delete"), reads: &metav1.DeleteOptions{}, writes: obj,
			// The API answers a DELETE with the object's last state.
			responses: []response{{http.StatusOK, "OK", obj}, {http.StatusAccepted, "Accepted", obj}}},
	)
	for _, sub := range r.Subresources {
		path, title := item+"/"+sub, strings.ToUpper(sub[:1])+sub[1:]
		op := namespaced + kind + title
		switch sub {
		case "status":
			routes = append(routes,
				readRoute(path, "read"+op, "read status of the specified "+kind, itemParams, gvk, obj),
				writeRoute(http.MethodPut, path, "replace"+op, "replace status of the specified "+kind, itemParams, &metav1.UpdateOptions{}, gvk, obj),
				writeRoute(http.MethodPatch, path, "patch"+op, "partially update status of the specified "+kind, itemParams, &metav1.PatchOptions{}, gvk, obj))
		case "scale":
			sgvk := autoscalingv1.SchemeGroupVersion.WithKind("Scale")
			scale := &autoscalingv1.Scale{}
			routes = append(routes,
				readRoute(path, "read"+op, "read scale of the specified "+kind, itemParams, sgvk, scale),
				writeRoute(http.MethodPut, path, "replace"+op, "replace scale of the specified "+kind, itemParams, &metav1.UpdateOptions{}, sgvk, scale),
				writeRoute(http.MethodPatch, path, "patch"+op, "partially update scale of the specified "+kind, itemParams, &metav1.PatchOptions{}, sgvk, scale))
		case "binding":
			bgvk := corev1.SchemeGroupVersion.WithKind("Binding")
			routes = append(routes, writeRoute(http.MethodPost, path, "create"+op, "create binding of"+article(kind)+kind,
				itemParams, &metav1.CreateOptions{}, bgvk, &corev1.Binding{}))
		case "token":
			tgvk := authenticationv1.SchemeGroupVersion.WithKind("TokenRequest")
			routes = append(routes, writeRoute(http.MethodPost, path, "create"+op, "create token of"+article(kind)+kind,
				itemParams, &metav1.CreateOptions{}, tgvk, &authenticationv1.TokenRequest{}))
		case "eviction":
			egvk := policyv1.SchemeGroupVersion.WithKind("Eviction")
			routes = append(routes, writeRoute(http.MethodPost, path, "create"+op, "create eviction of"+article(kind)+kind,
				itemParams, &metav1.CreateOptions{}, egvk, &policyv1.Eviction{}))
		case "log":
			// The log options the API passes to the node.
			rt := readRoute(path, "read"+op, "read log of the specified "+kind, itemParams, gvk, "string")
			rt.params = append(rt.params, optionParams(&corev1.PodLogOptions{}, nil, nil)...)
			rt.produces = append([]string{"text/plain"}, mediaTypes...)
			routes = append(routes, rt)
		case "exec", "attach", "portforward":
			// Upgrade requests: WebSocket clients GET, SPDY clients POST.
			opts, optsKind := any(&corev1.PodExecOptions{}), "PodExecOptions"
			switch sub {
			case "attach":
				opts, optsKind = &corev1.PodAttachOptions{}, "PodAttachOptions"
			case "portforward":
				opts, optsKind = &corev1.PodPortForwardOptions{}, "PodPortForwardOptions"
			}
			for _, m := range []string{http.MethodGet, http.MethodPost} {
				verb := strings.ToUpper(m[:1]) + strings.ToLower(m[1:])
				routes = append(routes, &route{method: m, path: path, operation: "connect" + verb + op,
					doc: "connect " + m + " requests to " + sub + " of " + kind, consumes: []string{"*/*"}, produces: []string{"*/*"},
					params: append(append([]param(nil), itemParams...), optionParams(opts, nil, nil)...),
					meta:   meta(corev1.SchemeGroupVersion.WithKind(optsKind), "connect"), writes: "string"})
			}
		default:
			return nil, fmt.Errorf("openapi: %s has subresource %q, which the spec builder does not know", r.Plural, sub)
		}
	}
	return routes, nil
}

// readRoute is a GET of one object (or of a subresource of it).
func readRoute(path, op, doc string, params []param, gvk schema.GroupVersionKind, out any) *route {
	return &route{method: http.MethodGet, path: path, operation: op, doc: doc,
		params:   append(append([]param(nil), params...), queryParam("pretty", prettyDoc, "string")),
		consumes: []string{"*/*"}, produces: mediaTypes, meta: meta(gvk, "get"), writes: out,
		responses: []response{{http.StatusOK, "OK", out}}}
}

// writeRoute is a POST, PUT or PATCH with a body, and the options of that
// verb as query parameters.
func writeRoute(method, path, op, doc string, params []param, opts any, gvk schema.GroupVersionKind, obj any) *route {
	rt := &route{method: method, path: path, operation: op, doc: doc,
		params:   append(append(append([]param(nil), params...), queryParam("pretty", prettyDoc, "string"), bodyParam(true)), optionParams(opts, nil, nil)...),
		consumes: []string{"*/*"}, produces: mediaTypes, reads: obj, writes: obj,
		responses: []response{{http.StatusOK, "OK", obj}, {http.StatusCreated, "Created", obj}}}
	switch method {
	case http.MethodPost:
		rt.meta = meta(gvk, "post")
		rt.responses = append(rt.responses, response{http.StatusAccepted, "Accepted", obj})
	case http.MethodPut:
		rt.meta = meta(gvk, "put")
	case http.MethodPatch:
		rt.meta = meta(gvk, "patch")
		rt.consumes, rt.reads = patchTypes, &metav1.Patch{}
	}
	return rt
}

// meta is the route extensions kube-apiserver sets on every operation.
func meta(gvk schema.GroupVersionKind, action string) map[string]any {
	return map[string]any{
		gvkExtension: metav1.GroupVersionKind{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind},
		actionExt:    action,
	}
}

// article is " a " or " an " before a kind's name.
func article(noun string) string {
	if strings.ContainsRune("AEIOU", rune(noun[0])) {
		return " an "
	}
	return " a "
}

// groupVersionOf splits "api/v1" and "apis/<group>/<version>".
func groupVersionOf(key string) (group, version string, ok bool) {
	parts := strings.Split(key, "/")
	switch {
	case len(parts) == 2 && parts[0] == "api":
		return "", parts[1], true
	case len(parts) == 3 && parts[0] == "apis":
		return parts[1], parts[2], true
	}
	return "", "", false
}

// scopeSharedKinds narrows the group-version-kinds of the meta types every
// group registers (DeleteOptions, WatchEvent) to this document's
// group-version and core/v1, as kube-apiserver does in its v3 documents.
// The extension maps may be shared between documents: they are replaced,
// not edited.
func scopeSharedKinds(doc *spec3.OpenAPI, group, version string) {
	for _, s := range doc.Components.Schemas {
		gvks, ok := s.Extensions[gvkExtension].([]any)
		if !ok || len(gvks) <= 1 {
			continue
		}
		if first, ok := gvks[0].(map[string]any); !ok || first["kind"] != "DeleteOptions" && first["kind"] != "WatchEvent" {
			continue
		}
		var kept []any
		for _, g := range gvks {
			m, _ := g.(map[string]any)
			if m["group"] == group && m["version"] == version || m["group"] == "" && m["version"] == "v1" {
				kept = append(kept, g)
			}
		}
		ext := maps.Clone(s.Extensions)
		ext[gvkExtension] = kept
		s.Extensions = ext
	}
}
