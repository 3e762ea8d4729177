package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/weirnet/weir/control/store"
	"github.com/weirnet/weir/control/store/storetest"
)

// pageAll reads a whole list page by page (limit objects each) at the
// revision of the first page, checking More and Remaining on the way.
func pageAll(t *testing.T, ctx context.Context, s store.Interface, opts store.ListOptions, limit int) ([]store.Object, uint64) {
	t.Helper()
	opts.Limit, opts.CountRemaining = limit, true
	var out []store.Object
	var rev uint64
	for page := 0; ; page++ {
		res, err := s.List(ctx, opts)
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		if page == 0 {
			rev = res.Revision
			opts.Revision = rev
		} else if res.Revision != rev {
			t.Fatalf("page %d at revision %d, want %d", page, res.Revision, rev)
		}
		out = append(out, res.Objects...)
		if len(res.Objects) > limit {
			t.Fatalf("page %d has %d objects, limit %d", page, len(res.Objects), limit)
		}
		if !res.More {
			if res.Remaining > 0 {
				t.Fatalf("last page says %d remain", res.Remaining)
			}
			return out, rev
		}
		if len(res.Objects) != limit || res.Remaining < 1 {
			t.Fatalf("page %d: %d objects, More with Remaining %d", page, len(res.Objects), res.Remaining)
		}
		last := res.Objects[len(res.Objects)-1].Key
		opts.Start = store.Key{Namespace: last.Namespace, Name: last.Name + "\x00"}
	}
}

func TestListPagesAtOneRevision(t *testing.T) {
	s := storetest.New(t)
	ctx := ctxT(t)
	for i := range 20 {
		for _, ns := range []string{"default", "other"} {
			k := store.Key{Resource: "configmaps", Namespace: ns, Name: fmt.Sprintf("c%02d", i)}
			if _, err := store.Create(ctx, s, k, []byte("v0")); err != nil {
				t.Fatal(err)
			}
		}
	}
	snap, err := s.List(ctx, store.ListOptions{Resource: "configmaps"})
	if err != nil {
		t.Fatal(err)
	}
	// Change the state after the snapshot: deletes, updates, creates in
	// between and after existing keys.
	for i := 0; i < 20; i += 3 {
		if _, err := store.Remove(ctx, s, cm(fmt.Sprintf("c%02d", i)), 0); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Update(ctx, s, cm(fmt.Sprintf("c%02d", i+1)), []byte("v1"), 0); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Create(ctx, s, cm(fmt.Sprintf("c%02d-new", i)), []byte("v1")); err != nil {
			t.Fatal(err)
		}
	}
	for _, limit := range []int{1, 3, 7, 40, 100} {
		opts := store.ListOptions{Resource: "configmaps", Revision: snap.Revision}
		got, rev := pageAll(t, ctx, s, opts, limit)
		if rev != snap.Revision || fmt.Sprint(keys(got)) != fmt.Sprint(keys(snap.Objects)) {
			t.Fatalf("limit %d at %d: %v\nwant %v", limit, rev, keys(got), keys(snap.Objects))
		}
		for _, o := range got {
			if string(o.Value) != "v0" {
				t.Fatalf("limit %d: %s has %q, want the snapshot's v0", limit, o.Key, o.Value)
			}
		}
	}
	// the latest state, one namespace, paged from revision 0 on
	cur, err := s.List(ctx, store.ListOptions{Resource: "configmaps", Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := pageAll(t, ctx, s, store.ListOptions{Resource: "configmaps", Namespace: "default"}, 4)
	if fmt.Sprint(keys(got)) != fmt.Sprint(keys(cur.Objects)) {
		t.Fatalf("paged latest: %v\nwant %v", keys(got), keys(cur.Objects))
	}
	// a first page without a limit has no More and no count
	if cur.More || cur.Remaining != -1 {
		t.Fatalf("unlimited list: More %v Remaining %d", cur.More, cur.Remaining)
	}
}

func TestListGoneNamesOldest(t *testing.T) {
	cfg := storetest.Config("m1", t.TempDir())
	cfg.Bootstrap, cfg.HistoryRevisions = true, 10
	s := storetest.Open(t, cfg)
	ctx := ctxT(t)
	start := s.Revision()
	for i := range 60 {
		if _, err := store.Create(ctx, s, cm(fmt.Sprint("n", i)), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	_, err := s.List(ctx, store.ListOptions{Resource: "configmaps", Revision: start + 1, Limit: 5})
	var ge *store.GoneError
	if !errors.As(err, &ge) || !errors.Is(err, store.ErrGone) || ge.Revision != start+1 || ge.Oldest <= start+1 || ge.Oldest >= s.Revision() {
		t.Fatalf("list at compacted revision: got %v (%+v)", err, ge)
	}
	// the oldest revision it names is still served
	if _, err := s.List(ctx, store.ListOptions{Resource: "configmaps", Revision: ge.Oldest}); err != nil {
		t.Fatalf("list at the oldest served revision %d: %v", ge.Oldest, err)
	}
}

func keys(objs []store.Object) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.Key.Namespace+"/"+o.Key.Name)
	}
	return out
}
