package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/api"
	"github.com/weirnet/weir/control/store"
	"github.com/weirnet/weir/control/store/storetest"
)

const testToken = "s3cret-token"

// env is one API server on a real single-member store, over real HTTP.
type env struct {
	t      testing.TB
	store  *store.Store
	server *api.Server
	http   *httptest.Server
	reg    *prometheus.Registry
}

func newEnv(t testing.TB, tweak ...func(*api.Config)) *env {
	t.Helper()
	return newEnvOn(t, storetest.New(t), tweak...)
}

func newEnvOn(t testing.TB, st *store.Store, tweak ...func(*api.Config)) *env {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg := api.Config{Store: st, Cluster: st, Token: testToken, Registerer: reg, Logger: storetest.Logger()}
	for _, f := range tweak {
		f(&cfg)
	}
	srv, err := api.New(cfg)
	if err != nil {
		t.Fatalf("api.New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Bootstrap(ctx); err != nil {
		t.Fatalf("Bootstrap: %v", err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &env{t: t, store: st, server: srv, http: hs, reg: reg}
}

// resp is a finished HTTP exchange.
type resp struct {
	code   int
	body   []byte
	header http.Header
}

// req sends a request with the test token. body is sent as is when it is a
// string or []byte, JSON-encoded otherwise. hdr are "Key: value" pairs.
func (e *env) req(method, path string, body any, hdr ...string) *resp {
	e.t.Helper()
	return e.reqToken(testToken, method, path, body, hdr...)
}

func (e *env) reqToken(token, method, path string, body any, hdr ...string) *resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	r, err := http.NewRequest(method, e.http.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	for _, h := range hdr {
		k, v, _ := strings.Cut(h, ": ")
		r.Header.Set(k, v)
	}
	res, err := e.http.Client().Do(r)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return &resp{code: res.StatusCode, body: data, header: res.Header}
}

// must fails the test unless the response has the code.
func (r *resp) must(t testing.TB, code int) *resp {
	t.Helper()
	if r.code != code {
		t.Fatalf("got HTTP %d, want %d: %s", r.code, code, r.body)
	}
	return r
}

func (r *resp) into(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// status decodes a Status answer and checks its code and reason.
func (r *resp) status(t testing.TB, code int, reason metav1.StatusReason) metav1.Status {
	t.Helper()
	r.must(t, code)
	var st metav1.Status
	r.into(t, &st)
	if st.Kind != "Status" || st.APIVersion != "v1" || st.Status != metav1.StatusFailure || int(st.Code) != code || st.Reason != reason {
		t.Fatalf("got Status %+v, want code %d reason %s", st, code, reason)
	}
	if st.Message == "" {
		t.Fatal("Status without a message")
	}
	return st
}

// obj decodes a JSON object answer into a map.
func (r *resp) obj(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.into(t, &m)
	return m
}

// path reads a nested field of a decoded object.
func path(m map[string]any, keys ...string) any {
	var cur any = m
	for _, k := range keys {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[k]
	}
	return cur
}

func str(m map[string]any, keys ...string) string {
	s, _ := path(m, keys...).(string)
	return s
}
