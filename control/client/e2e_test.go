package client_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirnet/weir/control/api"
	"github.com/weirnet/weir/control/client"
	"github.com/weirnet/weir/control/store"
	"github.com/weirnet/weir/control/store/storetest"
)

const token = "e2e-token"

// cluster is a real API server on a real single-member store, over HTTP.
type cluster struct {
	store  *store.Store
	server *httptest.Server
	client *client.Client
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	return newClusterOn(t, storetest.New(t))
}

func newClusterOn(t *testing.T, st *store.Store) *cluster {
	t.Helper()
	// Frequent bookmarks exercise the client's bookmark handling (and keep
	// watch set-up fast while the server sends its response headers with
	// the first event).
	srv, err := api.New(api.Config{Store: st, Cluster: st, Token: token, BookmarkInterval: 200 * time.Millisecond,
		Registerer: prometheus.NewRegistry(), Logger: storetest.Logger()})
	if err != nil {
		t.Fatalf("api.New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Bootstrap(ctx); err != nil {
		t.Fatalf("bootstrap namespaces: %v", err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	c, err := client.New(client.Config{Server: hs.URL, Token: token, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return &cluster{store: st, server: hs, client: c}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	t.Cleanup(cancel)
	return ctx
}
