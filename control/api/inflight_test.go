package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	genericrequest "k8s.io/apiserver/pkg/endpoints/request"
)

// TestInFlightLimits: with 4 read slots and half of them per identity,
// alice's third concurrent read is answered 429 with Retry-After as a
// TooManyRequests Status while bob still gets a slot; a full pool refuses
// everyone; mutating requests have their own pool; watches and exec are
// never counted; slots come back when requests end.
func TestInFlightLimits(t *testing.T) {
	s := &Server{log: testLogger(), codecs: newCodecs(), inflight: newInflight(InFlightLimits{ReadOnly: 4, Mutating: 1, PerUserPercent: 50})}
	m, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	s.metrics = m
	release := make(chan struct{})
	var entered sync.WaitGroup
	h := s.inflightMiddleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("block") == "1" {
			entered.Done()
			<-release
		}
		w.WriteHeader(200)
	}))
	do := func(who, method, path string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, path, nil)
		r = r.WithContext(genericrequest.WithUser(r.Context(), &user.DefaultInfo{Name: who}))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}
	var done sync.WaitGroup
	hold := func(who, method string) {
		entered.Add(1)
		done.Add(1)
		go func() { defer done.Done(); do(who, method, "/api/v1/namespaces/default/configmaps?block=1") }()
		entered.Wait()
	}
	want429 := func(rec *httptest.ResponseRecorder, what string) {
		t.Helper()
		var st metav1.Status
		_ = json.Unmarshal(rec.Body.Bytes(), &st)
		if rec.Code != 429 || rec.Header().Get("Retry-After") != "1" || st.Reason != metav1.StatusReasonTooManyRequests {
			t.Errorf("%s: %d Retry-After=%q %s; want 429 TooManyRequests, Retry-After 1", what, rec.Code, rec.Header().Get("Retry-After"), rec.Body)
		}
	}
	const list = "/api/v1/namespaces/default/configmaps"
	hold("alice", "GET")
	hold("alice", "GET")
	want429(do("alice", "GET", list), "alice's third read")
	if rec := do("bob", "GET", list); rec.Code != 200 {
		t.Errorf("bob's read while alice holds her share: %d", rec.Code)
	}
	hold("bob", "GET")
	hold("carol", "GET")
	want429(do("dave", "GET", list), "a read with the pool full")
	if rec := do("alice", "GET", list+"?watch=true"); rec.Code != 200 {
		t.Errorf("a watch with the pool full: %d", rec.Code)
	}
	if rec := do("alice", "POST", "/api/v1/namespaces/default/pods/p/exec?command=ls"); rec.Code != 200 {
		t.Errorf("an exec with the pool full: %d", rec.Code)
	}
	hold("alice", "POST")
	want429(do("bob", "DELETE", list+"/x"), "a write with the mutating pool full")
	close(release)
	done.Wait()
	if rec := do("dave", "GET", list); rec.Code != 200 {
		t.Errorf("a read once the others ended: %d", rec.Code)
	}
	if rec := do("dave", "PUT", list+"/x"); rec.Code != 200 {
		t.Errorf("a write once the others ended: %d", rec.Code)
	}
}

func TestIsLongRunning(t *testing.T) {
	for path, want := range map[string]bool{
		"/api/v1/namespaces/a/pods?watch=true":        true,
		"/api/v1/watch/namespaces/a/pods":             true,
		"/api/v1/namespaces/a/pods/p/exec":            true,
		"/api/v1/namespaces/a/pods/p/log?follow=true": true,
		"/api/v1/namespaces/a/pods/p/portforward":     true,
		"/api/v1/namespaces/a/pods":                   false,
		"/apis/apps/v1/namespaces/a/deployments/d":    false,
		"/api/v1/namespaces/a/pods/p/status":          false,
		"/readyz":                                     false,
	} {
		if got := IsLongRunning(httptest.NewRequest("GET", path, nil)); got != want {
			t.Errorf("IsLongRunning(%s) = %v", path, got)
		}
	}
}
