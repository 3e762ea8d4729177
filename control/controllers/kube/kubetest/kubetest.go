// Package kubetest starts a real weir API server (a single-member store
// and control/api over httptest) for the scheduler's and the controllers'
// tests, and gives them a clientset of it (protobuf, as the leader's) and
// polling helpers.
package kubetest

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/weirnet/weir/control/api"
	"github.com/weirnet/weir/control/controllers/kube"
	"github.com/weirnet/weir/control/store/storetest"
)

// Token is the bearer token of the test API.
const Token = "kubetest-token"

// New starts a store and an API server with the default namespaces and
// returns a clientset of it; everything stops at the end of the test.
func New(t testing.TB) kubernetes.Interface {
	t.Helper()
	cs, err := kube.NewClientset(NewConfig(t), "kubetest")
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// NewConfig starts a store and an API server as New does and returns the
// rest.Config of it (host and bearer token).
func NewConfig(t testing.TB) *rest.Config {
	t.Helper()
	st := storetest.New(t)
	srv, err := api.New(api.Config{Store: st, Cluster: st, Token: Token, Registerer: prometheus.NewRegistry(), Logger: storetest.Logger()})
	if err != nil {
		t.Fatalf("api.New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Bootstrap(ctx); err != nil {
		t.Fatalf("create default namespaces: %v", err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &rest.Config{Host: hs.URL, BearerToken: Token}
}

// Eventually polls cond every 50ms until it returns "" (done) or the
// deadline passes, then fails with cond's last answer.
func Eventually(t testing.TB, deadline time.Duration, cond func() string) {
	t.Helper()
	end := time.Now().Add(deadline)
	for {
		why := cond()
		if why == "" {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("after %v: %s", deadline, why)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
