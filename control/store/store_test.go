package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/weirnet/weir/control/store"
	"github.com/weirnet/weir/control/store/storetest"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func cm(name string) store.Key {
	return store.Key{Resource: "configmaps", Namespace: "default", Name: name}
}

func TestCRUDAndRevisions(t *testing.T) {
	s := storetest.New(t)
	ctx := ctxT(t)
	o1, err := store.Create(ctx, s, cm("a"), []byte("v1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Create(ctx, s, cm("a"), []byte("again")); !errors.Is(err, store.ErrExists) {
		t.Fatalf("second create: want ErrExists, got %v", err)
	}
	o2, err := store.Update(ctx, s, cm("a"), []byte("v2"), o1.Revision)
	if err != nil {
		t.Fatal(err)
	}
	if o2.Revision <= o1.Revision || o2.CreateRevision != o1.Revision {
		t.Fatalf("revisions: create %d, update %+v", o1.Revision, o2)
	}
	if _, err := store.Update(ctx, s, cm("a"), []byte("stale"), o1.Revision); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale update: want ErrConflict, got %v", err)
	}
	got, err := s.Get(ctx, cm("a"), store.ReadOptions{})
	if err != nil || string(got.Value) != "v2" || got.Revision != o2.Revision {
		t.Fatalf("get: %+v %v", got, err)
	}
	del, err := store.Remove(ctx, s, cm("a"), 0)
	if err != nil || string(del.Value) != "v2" || del.Revision <= o2.Revision {
		t.Fatalf("delete: %+v %v", del, err)
	}
	if _, err := s.Get(ctx, cm("a"), store.ReadOptions{Stale: true}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
}

func TestListAtRevisionAndNamespaces(t *testing.T) {
	s := storetest.New(t)
	ctx := ctxT(t)
	for i := 0; i < 5; i++ {
		if _, err := store.Create(ctx, s, cm(fmt.Sprint("c", i)), []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	other := store.Key{Resource: "configmaps", Namespace: "other", Name: "c0"}
	if _, err := store.Create(ctx, s, other, []byte("y")); err != nil {
		t.Fatal(err)
	}
	before, err := s.List(ctx, store.ListOptions{Resource: "configmaps", Namespace: "default"})
	if err != nil || len(before.Objects) != 5 {
		t.Fatalf("list default: %d %v", len(before.Objects), err)
	}
	all, _ := s.List(ctx, store.ListOptions{Resource: "configmaps"})
	if len(all.Objects) != 6 {
		t.Fatalf("list all namespaces: %d", len(all.Objects))
	}
	if _, err := store.Remove(ctx, s, cm("c1"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Update(ctx, s, cm("c2"), []byte("changed"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Create(ctx, s, cm("c9"), []byte("new")); err != nil {
		t.Fatal(err)
	}
	old, err := s.List(ctx, store.ListOptions{Resource: "configmaps", Namespace: "default", Revision: before.Revision})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(names(old.Objects)) != fmt.Sprint(names(before.Objects)) {
		t.Fatalf("list at %d: %v, want %v", before.Revision, names(old.Objects), names(before.Objects))
	}
	for _, o := range old.Objects {
		if string(o.Value) != "x" {
			t.Fatalf("rolled back %s has %q", o.Key, o.Value)
		}
	}
	if _, err := s.List(ctx, store.ListOptions{Resource: "configmaps", Revision: s.Revision() + 100}); !errors.Is(err, store.ErrFutureRevision) {
		t.Fatalf("future revision: %v", err)
	}
}

func names(objs []store.Object) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.Key.Name)
	}
	return out
}

func TestTxnIdempotentRetry(t *testing.T) {
	s := storetest.New(t)
	ctx := ctxT(t)
	txn := store.Txn{ID: "req-1", Conds: []store.Cond{{Kind: store.MustNotExist, Key: cm("once")}},
		Ops: []store.Op{{Kind: store.Put, Key: cm("once"), Value: []byte("v")}}}
	r1, err := s.Txn(ctx, txn)
	if err != nil || !r1.Succeeded {
		t.Fatalf("first: %+v %v", r1, err)
	}
	r2, err := s.Txn(ctx, txn)
	if err != nil || !r2.Succeeded || r2.Revision != r1.Revision || string(r2.Objects[0].Value) != "v" {
		t.Fatalf("retry must return the first result: %+v %v", r2, err)
	}
	if s.Revision() != r1.Revision+1 && s.Revision() < r1.Revision {
		t.Fatalf("revision moved unexpectedly: %d", s.Revision())
	}
}

func TestWatchFromRevisionInOrderExactlyOnce(t *testing.T) {
	s := storetest.New(t)
	ctx := ctxT(t)
	first, err := store.Create(ctx, s, cm("w0"), []byte("0"))
	if err != nil {
		t.Fatal(err)
	}
	// Half the writes before the watch (history), half after (live).
	var revs []uint64
	for i := 1; i <= 20; i++ {
		o, err := store.Update(ctx, s, cm("w0"), []byte(fmt.Sprint(i)), 0)
		if err != nil {
			t.Fatal(err)
		}
		revs = append(revs, o.Revision)
		if i == 10 {
			break
		}
	}
	w, err := s.Watch(ctx, store.WatchOptions{Resource: "configmaps", Namespace: "default", Revision: first.Revision})
	if err != nil {
		t.Fatal(err)
	}
	for i := 11; i <= 20; i++ {
		o, err := store.Update(ctx, s, cm("w0"), []byte(fmt.Sprint(i)), 0)
		if err != nil {
			t.Fatal(err)
		}
		revs = append(revs, o.Revision)
	}
	for i, want := range revs {
		select {
		case ev := <-w.Events():
			if ev.Revision != want || ev.Type != store.Modified || string(ev.Object.Value) != fmt.Sprint(i+1) {
				t.Fatalf("event %d: got rev %d %v %q, want rev %d", i, ev.Revision, ev.Type, ev.Object.Value, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("event %d (rev %d) not delivered", i, want)
		}
	}
	select {
	case ev := <-w.Events():
		t.Fatalf("unexpected extra event %+v", ev)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestWatchGoneAfterCompaction(t *testing.T) {
	cfg := storetest.Config("m1", t.TempDir())
	cfg.Bootstrap = true
	cfg.HistoryRevisions = 50
	s := storetest.Open(t, cfg)
	ctx := ctxT(t)
	start := s.Revision()
	for i := 0; i < 120; i++ {
		if _, err := store.Update(ctx, s, cm("x"), []byte("v"), 0); err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		if _, err := store.Create(ctx, s, cm(fmt.Sprint("n", i)), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Watch(ctx, store.WatchOptions{Resource: "configmaps", Revision: start}); !errors.Is(err, store.ErrGone) {
		t.Fatalf("watch from compacted revision: want ErrGone, got %v", err)
	}
	if _, err := s.List(ctx, store.ListOptions{Resource: "configmaps", Revision: start + 1}); !errors.Is(err, store.ErrGone) {
		t.Fatalf("list at compacted revision: want ErrGone, got %v", err)
	}
	if _, err := s.Watch(ctx, store.WatchOptions{Resource: "configmaps", Revision: s.Revision() - 10}); err != nil {
		t.Fatalf("watch within history: %v", err)
	}
}

func writeFile(path string, data []byte) error { return os.WriteFile(path, data, 0o600) }

func TestWatchProgressCoversOtherResources(t *testing.T) {
	s := storetest.New(t)
	ctx := ctxT(t)
	w, err := s.Watch(ctx, store.WatchOptions{Resource: "configmaps"})
	if err != nil {
		t.Fatal(err)
	}
	// Writes to another resource move the watcher's progress without events.
	o, err := store.Create(ctx, s, store.Key{Resource: "secrets", Namespace: "default", Name: "s"}, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for w.Progress() < o.Revision && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if w.Progress() < o.Revision {
		t.Fatalf("progress %d, want >= %d", w.Progress(), o.Revision)
	}
	select {
	case ev := <-w.Events():
		t.Fatalf("unexpected event %+v", ev)
	default:
	}
}

// TestWatchBatches: a Batches watcher takes history and live events in
// order, exactly once, several per Take when they queue up; writes to
// another resource do not wake it but move its progress; a decryptable
// Secret arrives decrypted.
func TestWatchBatches(t *testing.T) {
	s := storetest.New(t)
	ctx := ctxT(t)
	first, err := store.Create(ctx, s, cm("b0"), []byte("0"))
	if err != nil {
		t.Fatal(err)
	}
	var revs []uint64
	update := func(i int) {
		o, err := store.Update(ctx, s, cm("b0"), []byte(fmt.Sprint(i)), 0)
		if err != nil {
			t.Fatal(err)
		}
		revs = append(revs, o.Revision)
	}
	for i := 1; i <= 5; i++ {
		update(i)
	}
	w, err := s.Watch(ctx, store.WatchOptions{Resource: "configmaps", Namespace: "default", Revision: first.Revision, Batches: true})
	if err != nil {
		t.Fatal(err)
	}
	if w.Events() != nil {
		t.Fatal("a Batches watcher has an Events channel")
	}
	for i := 6; i <= 10; i++ {
		update(i)
	}
	var got []store.Event
	takes := 0
	for len(got) < len(revs) {
		select {
		case <-w.Ready():
			evs, err := w.Take()
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) > 0 {
				takes++
			}
			got = append(got, evs...)
		case <-time.After(5 * time.Second):
			t.Fatalf("%d of %d events taken", len(got), len(revs))
		}
	}
	for i, ev := range got {
		if i >= len(revs) || ev.Revision != revs[i] || string(ev.Object.Value) != fmt.Sprint(i+1) {
			t.Fatalf("event %d: rev %d %q, want rev %d", i, ev.Revision, ev.Object.Value, revs[i])
		}
	}
	if takes >= len(revs) {
		t.Errorf("%d takes for %d events: the history did not come as one batch", takes, len(revs))
	}
	o, err := store.Create(ctx, s, store.Key{Resource: "secrets", Namespace: "default", Name: "s"}, []byte("secret-value"))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-w.Ready():
		if evs, err := w.Take(); len(evs) != 0 || err != nil {
			t.Fatalf("a write to another resource delivered %v %v", evs, err)
		}
		t.Error("a write to another resource woke the watcher")
	case <-time.After(200 * time.Millisecond):
	}
	if p := w.Progress(); p < o.Revision {
		t.Fatalf("progress %d, want >= %d", p, o.Revision)
	}
	sw, err := s.Watch(ctx, store.WatchOptions{Resource: "secrets", Revision: o.Revision - 1, Batches: true})
	if err != nil {
		t.Fatal(err)
	}
	<-sw.Ready()
	if evs, err := sw.Take(); err != nil || len(evs) != 1 || string(evs[0].Object.Value) != "secret-value" {
		t.Fatalf("secret watch: %v %v", evs, err)
	}
}

// TestWatchByName: a watcher of one ConfigMap gets only its events, and
// writes to other ConfigMaps do not wake it; a watcher of the namespace
// gets them all, in order.
func TestWatchByName(t *testing.T) {
	s := storetest.New(t)
	ctx := ctxT(t)
	for _, n := range []string{"a", "b"} {
		if _, err := store.Create(ctx, s, cm(n), []byte("0")); err != nil {
			t.Fatal(err)
		}
	}
	one, err := s.Watch(ctx, store.WatchOptions{Resource: "configmaps", Namespace: "default", Name: "a", Batches: true})
	if err != nil {
		t.Fatal(err)
	}
	all, err := s.Watch(ctx, store.WatchOptions{Resource: "configmaps", Namespace: "default", Batches: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if _, err := store.Update(ctx, s, cm("b"), []byte(fmt.Sprint(i)), 0); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-one.Ready():
		evs, err := one.Take()
		t.Fatalf("writes to b woke the watcher of a: %v %v", evs, err)
	case <-time.After(200 * time.Millisecond):
	}
	o, err := store.Update(ctx, s, cm("a"), []byte("x"), 0)
	if err != nil {
		t.Fatal(err)
	}
	take := func(w *store.Watcher, n int) []store.Event {
		t.Helper()
		var got []store.Event
		for len(got) < n {
			select {
			case <-w.Ready():
				evs, err := w.Take()
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, evs...)
			case <-time.After(5 * time.Second):
				t.Fatalf("%d of %d events", len(got), n)
			}
		}
		return got
	}
	if got := take(one, 1); len(got) != 1 || got[0].Revision != o.Revision || got[0].Object.Key.Name != "a" {
		t.Fatalf("watcher of a: %+v", got)
	}
	got := take(all, 4)
	for i, ev := range got {
		if want := "b"; i == 3 {
			want = "a"
			if ev.Object.Key.Name != want {
				t.Fatalf("event %d: %s, want %s", i, ev.Object.Key.Name, want)
			}
		} else if ev.Object.Key.Name != want || (i > 0 && ev.Revision <= got[i-1].Revision) {
			t.Fatalf("event %d: %s rev %d", i, ev.Object.Key.Name, ev.Revision)
		}
	}
	if p := one.Progress(); p < o.Revision {
		t.Fatalf("progress of the watcher of a: %d, want >= %d", p, o.Revision)
	}
}
