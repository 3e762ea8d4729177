package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/weirnet/weir/control/store"
	"github.com/weirnet/weir/control/store/storetest"
)

// startCluster starts three in-process members: m1 bootstraps, m2 and m3
// join through m1.
func startCluster(t testing.TB, tweak func(*store.Config)) []*store.Store {
	cfg := storetest.Config("m1", t.TempDir())
	cfg.Bootstrap = true
	if tweak != nil {
		tweak(&cfg)
	}
	m1 := storetest.Open(t, cfg)
	members := []*store.Store{m1}
	for _, name := range []string{"m2", "m3"} {
		c := storetest.Config(name, t.TempDir())
		c.Join = []string{m1.PeerAddr()}
		if tweak != nil {
			tweak(&c)
		}
		members = append(members, storetest.Open(t, c))
	}
	waitVoters(t, m1, 3)
	return members
}

func waitVoters(t testing.TB, s *store.Store, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		ms, err := s.Members(context.Background())
		voters := 0
		for _, m := range ms {
			if m.Voter {
				voters++
			}
		}
		if err == nil && voters == n {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("cluster did not reach %d voters", n)
}

func leaderOf(t testing.TB, ms []*store.Store) (int, *store.Store) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for i, m := range ms {
			if m != nil && m.IsLeader() {
				return i, m
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no leader")
	return -1, nil
}

func TestClusterForwardsWritesAndReadsLinearizably(t *testing.T) {
	ms := startCluster(t, nil)
	ctx := ctxT(t)
	li, _ := leaderOf(t, ms)
	for i, m := range ms {
		if i == li {
			continue
		}
		// A write on a follower is forwarded; a linearizable read on any
		// other member sees it at once.
		o, err := store.Create(ctx, m, cm(fmt.Sprint("f", i)), []byte("v"))
		if err != nil {
			t.Fatalf("write on follower %d: %v", i, err)
		}
		for j, r := range ms {
			got, err := r.Get(ctx, cm(fmt.Sprint("f", i)), store.ReadOptions{})
			if err != nil || got.Revision != o.Revision {
				t.Fatalf("read on member %d after write on %d: %+v %v", j, i, got, err)
			}
		}
	}
	members, _ := ms[0].Members(ctx)
	if len(members) != 3 || members[1].APIAddr != "" && members[1].Name != "m2" {
		t.Fatalf("members: %+v", members)
	}
}

func TestLeaderShutdownHandsOver(t *testing.T) {
	ms := startCluster(t, nil)
	ctx := ctxT(t)
	li, leader := leaderOf(t, ms)
	o, err := store.Create(ctx, leader, cm("before"), []byte("v"))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	leader.Close()
	ms[li] = nil
	_, nl := leaderOf(t, ms)
	if _, err := store.Create(ctx, nl, cm("after"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	t.Logf("writes served by the new leader %v after the old one closed", time.Since(start))
	for _, m := range ms {
		if m == nil {
			continue
		}
		got, err := m.Get(ctx, cm("before"), store.ReadOptions{})
		if err != nil || got.Revision != o.Revision {
			t.Fatalf("acknowledged write lost: %+v %v", got, err)
		}
	}
}

func TestRestartedMemberCatchesUpFromSnapshot(t *testing.T) {
	var dirs []string
	small := func(c *store.Config) {
		c.SnapshotThreshold = 64
		c.TrailingLogs = 16
		c.SnapshotInterval = 200 * time.Millisecond
		dirs = append(dirs, c.DataDir)
	}
	ms := startCluster(t, small)
	ctx := ctxT(t)
	li, _ := leaderOf(t, ms)
	victim := (li + 1) % 3
	addr := ms[victim].PeerAddr()
	ms[victim].Close()
	ms[victim] = nil
	_, leader := leaderOf(t, ms)
	var last store.Object
	for i := 0; i < 400; i++ {
		o, err := store.Create(ctx, leader, cm(fmt.Sprint("s", i)), bytes.Repeat([]byte("x"), 100))
		if err != nil {
			t.Fatal(err)
		}
		last = o
	}
	time.Sleep(time.Second) // the leader snapshots and truncates its log
	cfg := storetest.Config(fmt.Sprint("m", victim+1), dirs[victim])
	cfg.PeerAddr = addr
	small(&cfg)
	back := storetest.Open(t, cfg)
	deadline := time.Now().Add(20 * time.Second)
	for back.Revision() < last.Revision && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	got, err := back.Get(ctx, cm("s399"), store.ReadOptions{Stale: true})
	if err != nil || got.Revision != last.Revision {
		t.Fatalf("restarted member did not catch up: %+v %v (revision %d)", got, err, back.Revision())
	}
	list, _ := back.List(ctx, store.ListOptions{Resource: "configmaps", ReadOptions: store.ReadOptions{Stale: true}})
	if len(list.Objects) != 400 {
		t.Fatalf("restarted member has %d objects, want 400", len(list.Objects))
	}
}

func TestSnapshotSaveRestoreRoundTrip(t *testing.T) {
	s := storetest.New(t)
	ctx := ctxT(t)
	for i := 0; i < 50; i++ {
		if _, err := store.Create(ctx, s, cm(fmt.Sprint("r", i)), []byte(fmt.Sprint("value-", i))); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	rev, err := s.SaveSnapshot(ctx, &buf)
	if err != nil {
		t.Fatal(err)
	}
	file := t.TempDir() + "/snap.db"
	if err := writeFile(file, buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := store.Restore(ctx, file, dir, "r1", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	if err := store.Restore(ctx, file, dir, "r1", "127.0.0.1:0"); err == nil {
		t.Fatal("restore into a used data dir must fail")
	}
	cfg := storetest.Config("r1", dir)
	r := storetest.Open(t, cfg)
	list, err := r.List(ctx, store.ListOptions{Resource: "configmaps"})
	if err != nil || len(list.Objects) != 50 {
		t.Fatalf("restored list: %d %v", len(list.Objects), err)
	}
	orig, _ := s.List(ctx, store.ListOptions{Resource: "configmaps"})
	for i := range orig.Objects {
		a, b := orig.Objects[i], list.Objects[i]
		if a.Key != b.Key || !bytes.Equal(a.Value, b.Value) || a.Revision != b.Revision {
			t.Fatalf("object %d differs: %+v vs %+v", i, a, b)
		}
	}
	o, err := store.Create(ctx, r, cm("new"), []byte("v"))
	if err != nil || o.Revision <= rev {
		t.Fatalf("write after restore: rev %d (snapshot %d) %v", o.Revision, rev, err)
	}
	if _, err := store.Create(ctx, r, cm("r0"), []byte("v")); !errors.Is(err, store.ErrExists) {
		t.Fatalf("restored object missing: %v", err)
	}
}

// TestReadIndexNeedsAQuorumInTheLeadersTerm: the leader confirms a read
// index only when a quorum of voters, asked after the read began, is still
// in its term. Asked for an earlier term, as a leader paused while the
// others elected a new one and resumed would be, it refuses; with one
// follower gone it still confirms; with both gone it refuses, and a
// linearizable read fails with ErrNoLeader instead of being served.
func TestReadIndexNeedsAQuorumInTheLeadersTerm(t *testing.T) {
	ms := startCluster(t, nil)
	li, l := leaderOf(t, ms)
	ctx := context.Background()
	if _, err := store.Create(ctx, l, cm("x"), []byte(`{"v":1}`)); err != nil {
		t.Fatal(err)
	}
	term := l.TermForTest()
	if err := l.ConfirmTermForTest(term); err != nil {
		t.Fatalf("confirm the current term %d: %v", term, err)
	}
	if err := l.ConfirmTermForTest(term - 1); !errors.Is(err, store.ErrNoLeader) {
		t.Fatalf("confirm the earlier term %d: %v, want ErrNoLeader", term-1, err)
	}
	ms[(li+1)%3].Close()
	if err := l.ConfirmTermForTest(term); err != nil {
		t.Fatalf("confirm term %d with one follower gone: %v", term, err)
	}
	ms[(li+2)%3].Close()
	if err := l.ConfirmTermForTest(term); !errors.Is(err, store.ErrNoLeader) {
		t.Fatalf("confirm term %d with both followers gone: %v, want ErrNoLeader", term, err)
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if o, err := l.Get(rctx, cm("x"), store.ReadOptions{}); !errors.Is(err, store.ErrNoLeader) {
		t.Fatalf("linearizable read without a quorum: %v %s, want ErrNoLeader", err, o.Value)
	}
}
