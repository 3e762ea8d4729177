package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/weirnet/weir/control/encrypt"
)

// TestEncryptionConfigWaitsForInflightWrites: installing a new config
// waits for the writes that encrypted with the previous one; a write that
// starts meanwhile uses the new one.
func TestEncryptionConfigWaitsForInflightWrites(t *testing.T) {
	e := newEncryption(filepath.Join(t.TempDir(), EncryptionFile))
	if ok, err := e.load(true); !ok || err != nil {
		t.Fatalf("load: %v %v", ok, err)
	}
	gen := func() *encrypt.Config {
		c, err := encrypt.Generate()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	w1 := e.acquire()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	second := gen()
	if err := e.set(ctx, second); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("set with a write in flight: %v, want it to wait and time out", err)
	}
	w2 := e.acquire()
	if w2.cfg != second {
		t.Fatal("a write started after set does not use the new config")
	}
	w1.inflight.RUnlock()
	done := make(chan error, 1)
	go func() { done <- e.set(context.Background(), gen()) }()
	select {
	case err := <-done:
		t.Fatalf("set returned (%v) while a write of the previous config was in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	w2.inflight.RUnlock()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("set did not return once the write ended")
	}
}
