package openapi

import (
	"encoding/json"
	"reflect"
	"strings"

	"k8s.io/kube-openapi/pkg/common"
)

// route is one served operation, described for kube-openapi's builders
// (common.Route). It carries no handler: the API server routes requests
// itself; routes only say what it serves.
type route struct {
	method, path, operation, doc string
	params                       []param
	consumes, produces           []string
	meta                         map[string]any
	reads                        any // request body sample; nil without body
	writes                       any // response body sample
	responses                    []response
}

func (r *route) Method() string             { return r.method }
func (r *route) Path() string               { return r.path }
func (r *route) OperationName() string      { return r.operation }
func (r *route) Description() string        { return r.doc }
func (r *route) Consumes() []string         { return r.consumes }
func (r *route) Produces() []string         { return r.produces }
func (r *route) Metadata() map[string]any   { return r.meta }
func (r *route) RequestPayloadSample() any  { return r.reads }
func (r *route) ResponsePayloadSample() any { return r.writes }
func (r *route) StatusCodeResponses() []common.StatusCodeResponse {
	out := make([]common.StatusCodeResponse, len(r.responses))
	for i := range r.responses {
		out[i] = r.responses[i]
	}
	return out
}
func (r *route) Parameters() []common.Parameter {
	out := make([]common.Parameter, len(r.params))
	for i := range r.params {
		out[i] = r.params[i]
	}
	return out
}

// response is one status code's answer.
type response struct {
	code    int
	message string
	model   any
}

func (r response) Code() int       { return r.code }
func (r response) Message() string { return r.message }
func (r response) Model() any      { return r.model }

// param is one parameter of a route.
type param struct {
	PName     string               `json:"name"`
	PDoc      string               `json:"description,omitempty"`
	PRequired bool                 `json:"required,omitempty"`
	PKind     common.ParameterKind `json:"kind"`
	PType     string               `json:"dataType,omitempty"` // "string", "boolean", "integer"
	PMultiple bool                 `json:"allowMultiple,omitempty"`
}

func (p param) Name() string                 { return p.PName }
func (p param) Description() string          { return p.PDoc }
func (p param) Required() bool               { return p.PRequired }
func (p param) Kind() common.ParameterKind   { return p.PKind }
func (p param) DataType() string             { return p.PType }
func (p param) AllowMultiple() bool          { return p.PMultiple }
func (p param) MarshalJSON() ([]byte, error) { type plain param; return json.Marshal(plain(p)) }

// container groups the routes of one group-version (or of one discovery
// path) under its root path (common.RouteContainer).
type container struct {
	root   string
	routes []*route
}

func (c *container) RootPath() string                   { return c.root }
func (c *container) PathParameters() []common.Parameter { return nil }
func (c *container) Routes() []common.Route {
	out := make([]common.Route, len(c.routes))
	for i, r := range c.routes {
		out[i] = r
	}
	return out
}

func pathParam(name, doc string) param {
	return param{PName: name, PDoc: doc, PRequired: true, PKind: common.PathParameterKind, PType: "string"}
}

func queryParam(name, doc, typ string) param {
	return param{PName: name, PDoc: doc, PKind: common.QueryParameterKind, PType: typ}
}

func bodyParam(required bool) param {
	return param{PName: "body", PRequired: required, PKind: common.BodyParameterKind}
}

// swaggerDoc is what the k8s.io/api and apimachinery option types
// implement: a description per JSON field.
type swaggerDoc interface{ SwaggerDoc() map[string]string }

// optionParams turns the top-level scalar fields of an options struct
// (metav1.ListOptions, CreateOptions, ..., corev1.PodLogOptions) into
// query parameters, named by their JSON names and described by their
// SwaggerDoc, as kube-apiserver's installer does. only, when not empty,
// keeps just those names; skip drops names.
func optionParams(opts any, only, skip []string) []param {
	t := reflect.TypeOf(opts)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var docs map[string]string
	if d, ok := opts.(swaggerDoc); ok {
		docs = d.SwaggerDoc()
	}
	var out []param
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" || contains(skip, name) || len(only) > 0 && !contains(only, name) {
			continue
		}
		typ := queryType(f.Type)
		if typ == "" {
			continue
		}
		out = append(out, queryParam(name, docs[name], typ))
	}
	return out
}

// queryType is the OpenAPI type of a query parameter of Go type t, or ""
// for types that are not query parameters (structs, maps).
func queryType(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
		if t.String() == "v1.Time" { // metav1.Time is an RFC 3339 string
			return "string"
		}
	}
	switch t.Kind() {
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.String:
		return "string"
	case reflect.Slice:
		return queryType(t.Elem())
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
