package ipam

import (
	"errors"
	"net/netip"
	"testing"
	"time"
)

func openTemp(t *testing.T) (string, *Store) {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(dir, "weir", Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return dir, s
}

func TestStoreAllocateIsDurableAndIdempotent(t *testing.T) {
	dir, s := openTemp(t)
	r := mustRange(t, "10.244.1.0/24")
	a1, created, err := s.Allocate(r, key("a"))
	if err != nil || !created || a1.String() != "10.244.1.2" {
		t.Fatalf("first allocate = %s %v %v", a1, created, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	err = With(dir, "weir", Options{}, func(s *Store) error {
		a2, created, err := s.Allocate(r, key("a"))
		if err != nil || created || a2 != a1 {
			t.Errorf("re-allocate after reopen = %s %v %v; want existing %s", a2, created, err, a1)
		}
		return s.Check()
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestStoreReleaseIsTolerant(t *testing.T) {
	_, s := openTemp(t)
	r := mustRange(t, "10.244.1.0/24")
	a, _, err := s.Allocate(r, key("a"))
	if err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Release(key("a"))
	if err != nil || !ok || got != a {
		t.Fatalf("Release = %s %v %v", got, ok, err)
	}
	if _, ok, err := s.Release(key("a")); err != nil || ok {
		t.Fatalf("second Release = %v %v; want nothing released, no error", ok, err)
	}
	if free, _ := s.Free(r); free != r.Size() {
		t.Fatalf("free = %d after release, want %d", free, r.Size())
	}
}

func TestStoreReleaseAllComparesAddress(t *testing.T) {
	_, s := openTemp(t)
	r := mustRange(t, "10.244.1.0/24")
	a, _, _ := s.Allocate(r, key("a"))
	b, _, _ := s.Allocate(r, key("b"))
	stale := []Allocation{{Addr: a, Key: key("a")}, {Addr: netip.MustParseAddr("10.244.1.99"), Key: key("b")}}
	n, err := s.ReleaseAll(stale)
	if err != nil || n != 1 {
		t.Fatalf("ReleaseAll = %d, %v; want 1 (b's address changed)", n, err)
	}
	if got, ok, _ := s.Lookup(key("b")); !ok || got != b {
		t.Fatalf("b = %s %v after ReleaseAll, want kept %s", got, ok, b)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
}

func TestStoreExhaustion(t *testing.T) {
	_, s := openTemp(t)
	r := mustRange(t, "10.0.0.0/30") // exactly one pod address
	if _, _, err := s.Allocate(r, key("a")); err != nil {
		t.Fatal(err)
	}
	_, _, err := s.Allocate(r, key("b"))
	if !errors.Is(err, ErrExhausted) {
		t.Fatalf("second allocate in a /30 = %v, want ErrExhausted", err)
	}
	if free, _ := s.Free(r); free != 0 {
		t.Fatalf("free = %d, want 0", free)
	}
}

func TestStoreBusyWhenLocked(t *testing.T) {
	dir, _ := openTemp(t) // holds the lock until cleanup
	start := time.Now()
	_, err := Open(dir, "weir", Options{LockTimeout: 200 * time.Millisecond})
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("Open while locked = %v, want ErrBusy", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("Open waited %s for a 200ms timeout", d)
	}
}

func TestStoreOpenFailsClearlyOnUnusableDir(t *testing.T) {
	_, err := Open("/proc/weir-ipam-cannot-exist", "weir", Options{})
	if err == nil || errors.Is(err, ErrBusy) {
		t.Fatalf("Open in /proc = %v, want a create error", err)
	}
}
