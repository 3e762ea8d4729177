package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
)

func TestRecoverAnswersStatus(t *testing.T) {
	s := &Server{log: testLogger(), codecs: newCodecs()}
	m, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	s.metrics = m
	h := s.metricsMiddleware(s.recoverMiddleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		var nilMap map[string]*int
		_ = *nilMap["boom"]
	})))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/pods", nil))
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), `"reason":"InternalError"`) {
		t.Fatalf("panic answered %d %s", rec.Code, rec.Body)
	}
}

func TestMergePatch(t *testing.T) {
	cases := []struct{ target, patch, want string }{
		{`{"a":"b"}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"b"}`, `{"b":"c"}`, `{"a":"b","b":"c"}`},
		{`{"a":"b"}`, `{"a":null}`, `{}`},
		{`{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`, `{"a":{"b":"d"}}`},
		{`{"a":[{"b":"c"}]}`, `{"a":[1]}`, `{"a":[1]}`},
		{`{"a":"c"}`, `{"a":{"b":"c"}}`, `{"a":{"b":"c"}}`},
		{`{}`, `{"a":{"bb":{"ccc":null}}}`, `{"a":{"bb":{}}}`},
	}
	for _, c := range cases {
		p := &patchRequest{typ: types.MergePatchType, body: []byte(c.patch)}
		out, err := p.patchJSON([]byte(c.target), nil)
		if err != nil {
			t.Fatalf("merge %s + %s: %v", c.target, c.patch, err)
		}
		if got := mustJSON(t, fromJSON(t, string(out))); got != mustJSON(t, fromJSON(t, c.want)) {
			t.Errorf("merge %s + %s = %s, want %s", c.target, c.patch, got, c.want)
		}
	}
}

func TestAllocatorRanges(t *testing.T) {
	a, err := newAllocator("10.96.0.0/12", "30000-32767")
	if err != nil {
		t.Fatal(err)
	}
	if a.size != 1<<20-2 || a.nth(0).String() != "10.96.0.1" || a.nth(a.size-1).String() != "10.111.255.254" {
		t.Fatalf("size %d first %s last %s", a.size, a.nth(0), a.nth(a.size-1))
	}
	for _, bad := range []string{"10.96.0.0/31", "nonsense", "10.96.0.0/33"} {
		if _, err := newAllocator(bad, "30000-32767"); err == nil {
			t.Errorf("service CIDR %s accepted", bad)
		}
	}
	for _, bad := range []string{"3-2", "0-10", "1-70000", "x"} {
		if _, err := newAllocator("10.96.0.0/12", bad); err == nil {
			t.Errorf("node port range %s accepted", bad)
		}
	}
	v6, err := newAllocator("fd00:10:96::/108", "30000-30001")
	if err != nil || v6.size != 1<<20-1 || v6.nth(0).String() != "fd00:10:96::1" {
		t.Fatalf("IPv6 range: %v size %d", err, v6.size)
	}
}
