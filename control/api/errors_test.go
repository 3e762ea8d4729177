package api_test

import (
	"net/http"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/api"
)

const cmPath = "/api/v1/namespaces/default/configmaps"

// TestErrorStatuses checks each error code and reason over HTTP.
func TestErrorStatuses(t *testing.T) {
	e := newEnv(t, func(c *api.Config) { c.MaxBodyBytes = 4096 })
	e.req("POST", cmPath, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"exists"}}`).must(t, http.StatusCreated)
	cases := []struct {
		name, method, path, body string
		hdr                      []string
		code                     int
		reason                   metav1.StatusReason
		msg                      string
	}{
		{"malformed json", "POST", cmPath, `{"apiVersion":"v1",`, []string{"Content-Type: application/json"}, 400, "BadRequest", "json parse error"},
		{"malformed yaml", "POST", cmPath, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [oops\n", []string{"Content-Type: application/yaml"}, 400, "BadRequest", "yaml: line 4"},
		{"yaml not an object", "POST", cmPath, "- a\n- b\n", nil, 400, "BadRequest", "cannot unmarshal array"},
		{"wrong type", "POST", cmPath, `{"metadata":{"name":5}}`, nil, 400, "BadRequest", "metadata.name"},
		{"kind mismatch", "POST", cmPath, `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"x"}}`, nil, 400, "BadRequest", "kind"},
		{"apiVersion mismatch", "POST", cmPath, `{"apiVersion":"apps/v1","kind":"ConfigMap","metadata":{"name":"x"}}`, nil, 400, "BadRequest", "API version"},
		{"namespace mismatch", "POST", cmPath, `{"metadata":{"name":"x","namespace":"kube-system"}}`, nil, 400, "BadRequest", "namespace"},
		{"name mismatch on put", "PUT", cmPath + "/exists", `{"metadata":{"name":"other"}}`, nil, 400, "BadRequest", "name"},
		{"strict unknown field", "POST", cmPath + "?fieldValidation=Strict", `{"metadata":{"name":"x"},"bogus":1}`, nil, 400, "BadRequest", "bogus"},
		{"bad label selector", "GET", cmPath + "?labelSelector=a%20in%20(", "", nil, 400, "BadRequest", "unable to parse requirement"},
		{"unsupported field selector", "GET", cmPath + "?fieldSelector=data.key%3Dx", "", nil, 400, "BadRequest", `"data.key" is not a known field selector`},
		{"unsupported pod field selector", "GET", podPath + "?fieldSelector=spec.xyz%3Dx", "", nil, 400, "BadRequest", "field label not supported: spec.xyz"},
		{"bad resourceVersion", "GET", cmPath + "?resourceVersion=abc", "", nil, 400, "BadRequest", "resourceVersion"},
		{"bad dryRun", "POST", cmPath + "?dryRun=Some", `{"metadata":{"name":"x"}}`, nil, 400, "BadRequest", "dryRun"},
		{"unknown resource", "GET", "/api/v1/namespaces/default/widgets", "", nil, 404, "NotFound", "could not find"},
		{"unknown group", "GET", "/apis/example.com/v1/widgets", "", nil, 404, "NotFound", "could not find"},
		{"unknown version", "GET", "/api/v2/pods", "", nil, 404, "NotFound", "could not find"},
		{"unknown path", "GET", "/nothing", "", nil, 404, "NotFound", "could not find"},
		{"unknown subresource", "GET", cmPath + "/exists/status", "", nil, 404, "NotFound", "could not find"},
		{"cluster-scoped under namespace", "GET", "/api/v1/namespaces/default/nodes", "", nil, 404, "NotFound", "could not find"},
		{"empty path segment", "GET", "/api/v1/namespaces//configmaps", "", nil, 404, "NotFound", "could not find"},
		{"control character", "GET", cmPath + "/a%00b", "", nil, 400, "BadRequest", "control character"},
		{"missing object", "GET", cmPath + "/nope", "", nil, 404, "NotFound", `configmaps "nope" not found`},
		{"missing namespace", "POST", "/api/v1/namespaces/nope/configmaps", `{"metadata":{"name":"x"}}`, nil, 404, "NotFound", `namespaces "nope" not found`},
		{"post on item", "POST", cmPath + "/exists", `{}`, nil, 405, "MethodNotAllowed", "does not allow this method"},
		{"delete collection", "DELETE", cmPath, "", nil, 405, "MethodNotAllowed", "does not allow this method"},
		{"put collection", "PUT", cmPath, `{}`, nil, 405, "MethodNotAllowed", "does not allow this method"},
		{"create across namespaces", "POST", "/api/v1/configmaps", `{"metadata":{"name":"x"}}`, nil, 405, "MethodNotAllowed", "does not allow this method"},
		{"already exists", "POST", cmPath, `{"metadata":{"name":"exists"}}`, nil, 409, "AlreadyExists", "already exists"},
		{"stale resourceVersion", "PUT", cmPath + "/exists", `{"metadata":{"name":"exists","resourceVersion":"1"}}`, nil, 409, "Conflict", "modified"},
		{"too large", "POST", cmPath, `{"metadata":{"name":"big"},"data":{"a":"` + strings.Repeat("x", 5000) + `"}}`, nil, 413, "RequestEntityTooLarge", "4096"},
		{"unsupported media type", "POST", cmPath, `{}`, []string{"Content-Type: text/plain"}, 415, "UnsupportedMediaType", "application/vnd.kubernetes.protobuf"},
		{"not protobuf", "POST", cmPath, `{}`, []string{"Content-Type: application/vnd.kubernetes.protobuf"}, 400, "BadRequest", "protobuf"},
		{"unknown patch type refused", "PATCH", cmPath + "/exists", `{}`, []string{"Content-Type: application/xml-patch+xml"}, 415, "UnsupportedMediaType", "merge-patch"},
		{"invalid name", "POST", cmPath, `{"metadata":{"name":"Not_Valid"}}`, nil, 422, "Invalid", "metadata.name"},
		{"missing name", "POST", cmPath, `{"metadata":{}}`, nil, 422, "Invalid", "metadata.name"},
		{"invalid label", "POST", cmPath, `{"metadata":{"name":"x","labels":{"a b":"c"}}}`, nil, 422, "Invalid", "metadata.labels"},
		{"not acceptable", "GET", cmPath, "", []string{"Accept: text/html"}, 406, "NotAcceptable", "application/json"},
		{"delete system namespace", "DELETE", "/api/v1/namespaces/default", "", nil, 403, "Forbidden", "this namespace may not be deleted"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body any
			if c.body != "" {
				body = c.body
			}
			st := e.req(c.method, c.path, body, c.hdr...).status(t, c.code, c.reason)
			if !strings.Contains(st.Message, c.msg) {
				t.Errorf("message %q does not mention %q", st.Message, c.msg)
			}
		})
	}
}

// TestInvalidCauses checks that 422 answers carry field causes.
func TestInvalidCauses(t *testing.T) {
	e := newEnv(t)
	pod := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"bad"},"spec":{"containers":[{"name":"Bad_Name","ports":[{"containerPort":70000,"protocol":"ICMP"}]}]}}`
	st := e.req("POST", "/api/v1/namespaces/default/pods", pod).status(t, 422, "Invalid")
	want := map[string]metav1.CauseType{
		"spec.containers[0].name":                   metav1.CauseTypeFieldValueInvalid,
		"spec.containers[0].image":                  metav1.CauseTypeFieldValueRequired,
		"spec.containers[0].ports[0].containerPort": metav1.CauseTypeFieldValueInvalid,
		"spec.containers[0].ports[0].protocol":      metav1.CauseTypeFieldValueNotSupported,
	}
	if st.Details == nil || st.Details.Kind != "Pod" || st.Details.Name != "bad" {
		t.Fatalf("details %+v", st.Details)
	}
	got := map[string]metav1.CauseType{}
	for _, c := range st.Details.Causes {
		got[c.Field] = c.Type
	}
	for f, typ := range want {
		if got[f] != typ {
			t.Errorf("cause for %s = %q, want %q (all: %v)", f, got[f], typ, st.Details.Causes)
		}
	}
}

// TestAuth: every endpoint but the probes and /version needs the token.
func TestAuth(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/api/v1/namespaces", "/api", "/apis", "/metrics", "/weir/v1/members", "/weir/v1/snapshot", "/nothing"} {
		e.reqToken("", "GET", p, nil).status(t, 401, "Unauthorized")
		e.reqToken("wrong-token", "GET", p, nil).status(t, 401, "Unauthorized")
		e.reqToken(testToken+"x", "GET", p, nil).status(t, 401, "Unauthorized")
	}
	r := e.reqToken("", "GET", "/api", nil, "Authorization: Basic "+testToken)
	r.status(t, 401, "Unauthorized")
	if r.header.Get("WWW-Authenticate") == "" {
		t.Error("401 without WWW-Authenticate")
	}
	for _, p := range []string{"/healthz", "/livez", "/readyz", "/version"} {
		e.reqToken("", "GET", p, nil).must(t, http.StatusOK)
	}
	e.req("GET", "/api/v1/namespaces", nil).must(t, http.StatusOK)
}

// TestNoLeader: a store that cannot serve answers 503 with Retry-After.
func TestStoreUnavailable(t *testing.T) {
	e := newEnv(t)
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	r := e.req("GET", cmPath, nil)
	r.status(t, http.StatusServiceUnavailable, "ServiceUnavailable")
	if r.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	e.req("POST", cmPath, `{"metadata":{"name":"x"}}`).status(t, http.StatusServiceUnavailable, "ServiceUnavailable")
}
