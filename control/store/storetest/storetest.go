// Package storetest starts real weir store members for tests: raft, bbolt
// and the peer service on loopback, in the test's temp dir, closed with
// t.Cleanup.
package storetest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/weirnet/weir/control/encrypt"
	"github.com/weirnet/weir/control/store"
)

// Secret is the cluster secret test members share.
var Secret = []byte("weir-test-cluster-secret-0123456789")

// CA is the cluster CA test members share (made once per test binary): a
// member issues its own peer certificate and joiners' with it, as a member
// with its data dir's copy of the cluster CA does.
func CA() (*x509.Certificate, crypto.Signer) {
	caOnce.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "weir test CA"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			panic(err)
		}
		cert, _ := x509.ParseCertificate(der)
		testCA.cert, testCA.key = cert, key
	})
	return testCA.cert, testCA.key
}

var (
	caOnce sync.Once
	testCA struct {
		cert *x509.Certificate
		key  *ecdsa.PrivateKey
	}
)

// Logger is quiet unless WEIR_TEST_LOG is set.
func Logger() *slog.Logger {
	if os.Getenv("WEIR_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// Encryption is the encryption config test members share (made once per
// test binary), as the members of one cluster do.
func Encryption() *encrypt.Config {
	encOnce.Do(func() {
		var err error
		if testEnc, err = encrypt.Generate(); err != nil {
			panic(err)
		}
	})
	return testEnc
}

var (
	encOnce sync.Once
	testEnc *encrypt.Config
)

// Config is a member config on a free loopback port in dir. Unless dir
// holds one, it writes the shared encryption config there (so that a
// member restored from another's snapshot reads its Secrets); remove
// store.EncryptionFile to have a joining member receive it by joining.
func Config(name, dir string) store.Config {
	path := filepath.Join(dir, store.EncryptionFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			panic(err)
		}
		if err := Encryption().Save(path); err != nil {
			panic(err)
		}
	}
	return store.Config{
		Name: name, DataDir: dir, PeerAddr: "127.0.0.1:0", Secret: Secret, Token: "test-token", CA: CA,
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
