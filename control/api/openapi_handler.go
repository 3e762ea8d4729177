package api

import (
	"net/http"
	"strings"
	"sync"

	"k8s.io/kube-openapi/pkg/handler"
	"k8s.io/kube-openapi/pkg/handler3"

	"github.com/weirnet/weir/control/api/openapi"
)

// openAPIServer serves /openapi/v2 and /openapi/v3[/<group-version>]
// through kube-openapi's handlers: JSON or protobuf by Accept, ETags,
// If-None-Match, the v3 ?hash= redirect and immutable caching.
type openAPIServer struct {
	mux *http.ServeMux
	v3  map[string]bool // the documents under /openapi/v3/
}

// openAPISpecs are the documents of the served kinds. They depend only on
// the fixed kinds table (manifest) and behaviours, so every Server of the
// process shares one immutable build.
var openAPISpecs = sync.OnceValues(func() (*openapi.Specs, error) {
	reg, err := newRegistry()
	if err != nil {
		return nil, err
	}
	return openapi.Build(openAPIResources(reg), "v"+kubeMajor+"."+kubeMinor+".0")
})

// openAPIResources describes the served resources for the spec builder.
func openAPIResources(reg *registry) []openapi.Resource {
	out := make([]openapi.Resource, 0, len(reg.list))
	for _, r := range reg.list {
		out = append(out, openapi.Resource{Group: r.Group, Version: r.Version, Kind: r.Kind, Plural: r.Plural,
			Namespaced: r.Namespaced, Subresources: append([]string(nil), r.subs...)})
	}
	return out
}

func newOpenAPIServer() (*openAPIServer, error) {
	specs, err := openAPISpecs()
	if err != nil {
		return nil, err
	}
	o := &openAPIServer{mux: http.NewServeMux(), v3: map[string]bool{}}
	handler.NewOpenAPIService(specs.V2).RegisterOpenAPIVersionedService("/openapi/v2", o.mux)
	v3 := handler3.NewOpenAPIService()
	for key, doc := range specs.V3 {
		v3.UpdateGroupVersion(key, doc)
		o.v3[key] = true
	}
	if err := v3.RegisterOpenAPIV3VersionedService("/openapi/v3", prefixMux{o.mux}); err != nil {
		return nil, err
	}
	return o, nil
}

// prefixMux is a ServeMux as kube-openapi's PathHandlerByGroupVersion: a
// pattern ending in "/" matches its whole subtree.
type prefixMux struct{ *http.ServeMux }

func (m prefixMux) HandlePrefix(path string, h http.Handler) { m.Handle(path, h) }

// serveOpenAPI answers GET and HEAD of the OpenAPI documents; an unknown
// /openapi/v3/ document is a 404 Status (kube-openapi would answer an
// empty 200).
func (s *Server) serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	setLabels(r.Context(), "get", "openapi")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		s.writeError(w, r, errMethodNotAllowed())
		return
	}
	if key, ok := strings.CutPrefix(r.URL.Path, "/openapi/v3/"); ok && !s.openapi.v3[key] {
		s.writeError(w, r, errNoRoute())
		return
	}
	s.openapi.mux.ServeHTTP(w, r)
}
