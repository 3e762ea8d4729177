// Package storetest starts real weir store members for tests: raft, bbolt
// and the peer service on loopback, in the test's temp dir, closed with
// t.Cleanup.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/weirnet/weir/control/store"
)

// Secret is the cluster secret test members share.
var Secret = []byte("weir-test-cluster-secret-0123456789")

// Logger is quiet unless WEIR_TEST_LOG is set.
func Logger() *slog.Logger {
	if os.Getenv("WEIR_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// Config is a member config on a free loopback port in dir.
func Config(name, dir string) store.Config {
	return store.Config{
		Name: name, DataDir: dir, PeerAddr: "127.0.0.1:0", Secret: Secret, Token: "test-token",
		Logger: Logger(), HeartbeatTimeout: 200 * time.Millisecond, ElectionTimeout: 200 * time.Millisecond,
	}
}

// New returns a bootstrapped single-member store that is leader and ready.
func New(t testing.TB) *store.Store {
	t.Helper()
	cfg := Config("m1", t.TempDir())
	cfg.Bootstrap = true
	return Open(t, cfg)
}

// Open opens a member with cfg and waits until it knows a leader.
func Open(t testing.TB, cfg store.Config) *store.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open store member %s: %v", cfg.Name, err)
	}
	t.Cleanup(func() { s.Close() })
	if err := WaitReady(ctx, s); err != nil {
		t.Fatal(err)
	}
	return s
}

// WaitReady waits until the member knows a leader and can serve a
// linearizable read.
func WaitReady(ctx context.Context, s *store.Store) error {
	for {
		if s.Ready() == nil {
			if _, err := s.Get(ctx, store.Key{Resource: "_probe", Name: "x"}, store.ReadOptions{}); err == nil || errors.Is(err, store.ErrNotFound) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("store member not ready: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
