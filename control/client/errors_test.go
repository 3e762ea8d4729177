package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var podsGVR = schema.GroupVersionResource{Version: "v1", Resource: "pods"}

// serveOnce answers every request with code and body; it records the
// last request's Authorization header and path.
func serveOnce(t *testing.T, code int, contentType, body string) (*Client, *http.Request) {
	t.Helper()
	var last http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		last = *r.Clone(context.Background())
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(code)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	c, err := New(Config{Server: srv.URL, Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c, &last
}

func TestStatusErrorFromServer(t *testing.T) {
	c, last := serveOnce(t, 404, "application/json",
		`{"kind":"Status","apiVersion":"v1","status":"Failure","message":"pods \"web\" not found","reason":"NotFound","details":{"name":"web","kind":"pods"},"code":404}`)
	_, err := c.Get(context.Background(), podsGVR, "default", "web")
	var se *StatusError
	if !errors.As(err, &se) {
		t.Fatalf("err = %T %v, want *StatusError", err, err)
	}
	if !apierrors.IsNotFound(err) {
		t.Errorf("apierrors.IsNotFound(%v) = false", err)
	}
	if got, want := err.Error(), `Error from server (NotFound): pods "web" not found`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got := last.Header.Get("Authorization"); got != "Bearer tok" {
		t.Errorf("Authorization = %q, want the bearer token", got)
	}
	if last.URL.Path != "/api/v1/namespaces/default/pods/web" {
		t.Errorf("path = %q", last.URL.Path)
	}
}

func TestStatusErrorCauses(t *testing.T) {
	c, _ := serveOnce(t, 422, "application/json",
		`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Invalid","code":422,
		  "message":"Service \"x\" is invalid: spec.ports[0].port: Invalid value: 0: must be between 1 and 65535",
		  "details":{"causes":[
		    {"reason":"FieldValueInvalid","field":"spec.ports[0].port","message":"Invalid value: 0: must be between 1 and 65535"},
		    {"reason":"FieldValueRequired","field":"spec.selector","message":"Required value"}]}}`)
	_, err := c.Get(context.Background(), podsGVR, "default", "x")
	if !apierrors.IsInvalid(err) {
		t.Fatalf("IsInvalid(%v) = false", err)
	}
	want := "Error from server (Invalid): Service \"x\" is invalid: spec.ports[0].port: Invalid value: 0: must be between 1 and 65535\n  spec.selector: Required value"
	if err.Error() != want {
		t.Errorf("Error() =\n%s\nwant\n%s", err.Error(), want)
	}
}

func TestStatusErrorNotAStatus(t *testing.T) {
	c, _ := serveOnce(t, 502, "text/plain", "upstream connect error\n")
	err := c.Delete(context.Background(), podsGVR, "default", "x")
	var se *StatusError
	if !errors.As(err, &se) {
		t.Fatalf("err = %T %v, want *StatusError", err, err)
	}
	if se.ErrStatus.Code != 502 || !apierrors.IsInternalError(err) {
		t.Errorf("status = %+v, want code 502 InternalError", se.ErrStatus)
	}
	if !strings.Contains(err.Error(), "502 Bad Gateway: upstream connect error") {
		t.Errorf("Error() = %q, want the HTTP status and body", err.Error())
	}
}

func TestStatusReasonFilledFromCode(t *testing.T) {
	c, _ := serveOnce(t, 409, "application/json", `{"kind":"Status","message":"the object has been modified"}`)
	_, err := c.Get(context.Background(), podsGVR, "default", "x")
	if !apierrors.IsConflict(err) {
		t.Errorf("IsConflict(%v) = false; a Status without reason takes it from the HTTP code", err)
	}
}

func TestConnectionRefusedSaysWhatToDo(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c, err := New(Config{Server: url})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Get(context.Background(), podsGVR, "default", "x")
	if err == nil || !strings.Contains(err.Error(), "--server") {
		t.Errorf("err = %v, want a hint about --server", err)
	}
}

func TestPath(t *testing.T) {
	deploy := schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	ns := schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	for _, tt := range []struct {
		gvr      schema.GroupVersionResource
		ns, name string
		want     string
	}{
		{podsGVR, "default", "web", "/api/v1/namespaces/default/pods/web"},
		{podsGVR, "", "", "/api/v1/pods"},
		{deploy, "prod", "", "/apis/apps/v1/namespaces/prod/deployments"},
		{ns, "", "kube-system", "/api/v1/namespaces/kube-system"},
		{podsGVR, "a b", "x/y", "/api/v1/namespaces/a%20b/pods/x%2Fy"},
	} {
		if got := Path(tt.gvr, tt.ns, tt.name); got != tt.want {
			t.Errorf("Path(%v, %q, %q) = %q, want %q", tt.gvr, tt.ns, tt.name, got, tt.want)
		}
	}
}

func TestEscapedNameReachesServer(t *testing.T) {
	c, last := serveOnce(t, 200, "application/json", `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a/b"}}`)
	if _, err := c.Get(context.Background(), podsGVR, "default", "a/b"); err != nil {
		t.Fatal(err)
	}
	if got := last.URL.EscapedPath(); got != "/api/v1/namespaces/default/pods/a%2Fb" {
		t.Errorf("escaped path = %q", got)
	}
}
