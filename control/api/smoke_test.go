package api_test

import (
	"net/http"
	"testing"
)

func TestSmokeCreateGet(t *testing.T) {
	e := newEnv(t)
	cm := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c1"},"data":{"a":"b"}}`
	created := e.req("POST", "/api/v1/namespaces/default/configmaps", cm).must(t, http.StatusCreated).obj(t)
	got := e.req("GET", "/api/v1/namespaces/default/configmaps/c1", nil).must(t, http.StatusOK).obj(t)
	if str(created, "metadata", "resourceVersion") == "" || str(got, "metadata", "resourceVersion") != str(created, "metadata", "resourceVersion") {
		t.Fatalf("resourceVersion: created %v got %v", created, got)
	}
}
