package store_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/weirnet/weir/control/store"
	"github.com/weirnet/weir/control/store/storetest"
)

// TestFutureRevision: a watch or list at a revision the member has not
// reached waits a bounded time for it: one that arrives meanwhile is
// served; one that does not (2^64-1 included, which must not wrap to 0
// and replay the history) fails with ErrFutureRevision after about 3 s.
func TestFutureRevision(t *testing.T) {
	s := storetest.New(t)
	ctx := ctxT(t)
	k := store.Key{Resource: "configmaps", Namespace: "default", Name: "a"}
	if _, err := store.Create(ctx, s, k, []byte("v0")); err != nil {
		t.Fatal(err)
	}
	for _, rev := range []uint64{math.MaxUint64, s.Revision() + 1000} {
		start := time.Now()
		w, err := s.Watch(ctx, store.WatchOptions{Resource: "configmaps", Revision: rev})
		if !errors.Is(err, store.ErrFutureRevision) {
			if w != nil {
				select {
				case ev := <-w.Events():
					t.Errorf("watch from %d delivered revision %d", rev, ev.Revision)
				default:
				}
			}
			t.Fatalf("watch from %d: %v, want ErrFutureRevision", rev, err)
		}
		if took := time.Since(start); took < 2*time.Second || took > 6*time.Second {
			t.Errorf("watch from %d refused after %v, want ~3s", rev, took)
		}
		if _, err := s.List(ctx, store.ListOptions{Resource: "configmaps", Revision: rev}); !errors.Is(err, store.ErrFutureRevision) {
			t.Errorf("list at %d: %v, want ErrFutureRevision", rev, err)
		}
	}
	// A revision reached within the wait is served.
	next := s.Revision() + 1
	done := make(chan error, 1)
	var got []store.Event
	go func() {
		w, err := s.Watch(ctx, store.WatchOptions{Resource: "configmaps", Revision: next})
		if err != nil {
			done <- err
			return
		}
		got = append(got, <-w.Events())
		done <- nil
	}()
	lw := make(chan error, 1)
	go func() {
		_, err := s.List(ctx, store.ListOptions{Resource: "configmaps", Revision: next})
		lw <- err
	}()
	time.Sleep(500 * time.Millisecond)
	for _, name := range []string{"b", "c"} {
		if _, err := store.Create(ctx, s, store.Key{Resource: "configmaps", Namespace: "default", Name: name}, []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil || len(got) != 1 || got[0].Revision <= next {
		t.Errorf("watch: %v %+v", err, got)
	}
	if err := <-lw; err != nil {
		t.Errorf("list at a revision reached while waiting: %v", err)
	}
}
