package store_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/weirnet/weir/control/encrypt"
	"github.com/weirnet/weir/control/store"
	"github.com/weirnet/weir/control/store/storetest"
)

func secretKey(name string) store.Key {
	return store.Key{Resource: "secrets", Namespace: "default", Name: name}
}

// snappy makes a member snapshot after a handful of writes.
func snappy(c *store.Config) {
	c.SnapshotThreshold = 8
	c.TrailingLogs = 4
	c.SnapshotInterval = 100 * time.Millisecond
}

// grepDir returns the files under dir that contain needle.
func grepDir(t *testing.T, dir string, needle []byte) []string {
	t.Helper()
	var hits []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, needle) {
			hits = append(hits, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

func waitSnapshot(t *testing.T, dir string) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m, _ := filepath.Glob(filepath.Join(dir, "snapshots", "*", "state.bin")); len(m) > 0 {
			return m
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no snapshot in %s", dir)
	return nil
}

// TestSecretsEncryptedAtRest: a Secret's value appears in no file of any
// member's data dir (state.db, raft.db, snapshots), while an unencrypted
// ConfigMap's does (the grep works); both members hold the same
// encryption config (the joiner got it through the join exchange) and read
// the Secret back, in Get, List, Watch and Txn results.
func TestSecretsEncryptedAtRest(t *testing.T) {
	ctx := ctxT(t)
	// m1 generates its encryption config; m2 gets it by joining.
	c1 := storetest.Config("m1", t.TempDir())
	c1.Bootstrap = true
	snappy(&c1)
	noEncryptionConfig(t, c1)
	m1 := storetest.Open(t, c1)
	c2 := storetest.Config("m2", t.TempDir())
	c2.CA, c2.Join = nil, []string{m1.PeerAddr()}
	snappy(&c2)
	noEncryptionConfig(t, c2)
	m2 := storetest.Open(t, c2)
	waitVoters(t, m1, 2)

	w, err := m2.Watch(ctx, store.WatchOptions{Resource: "secrets"})
	if err != nil {
		t.Fatal(err)
	}
	val := []byte(`{"data":{"password":"SECRET-AT-REST-MARKER"}}`)
	res, err := m2.Txn(ctx, store.Txn{Ops: []store.Op{{Kind: store.Put, Key: secretKey("s"), Value: val}}})
	if err != nil || !bytes.Equal(res.Objects[0].Value, val) {
		t.Fatalf("txn result: %+v %v", res, err)
	}
	if _, err := store.Create(ctx, m1, cm("c"), []byte("CONFIGMAP-AT-REST-MARKER")); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 30; i++ {
		if _, err := store.Create(ctx, m1, cm(fmt.Sprint("fill", i)), []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case ev := <-w.Events():
		if !bytes.Equal(ev.Object.Value, val) {
			t.Fatalf("watch event value %q", ev.Object.Value)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no watch event")
	}
	// A failed condition returns the current (decrypted) value.
	res, err = m1.Txn(ctx, store.Txn{Conds: []store.Cond{{Kind: store.MustNotExist, Key: secretKey("s")}},
		Ops: []store.Op{{Kind: store.Put, Key: secretKey("s"), Value: []byte("other")}}})
	if err != nil || res.Succeeded || !bytes.Equal(res.Current.Value, val) {
		t.Fatalf("failed txn current: %+v %v", res, err)
	}
	for _, m := range []*store.Store{m1, m2} {
		l, err := m.List(ctx, store.ListOptions{Resource: "secrets"})
		if err != nil || len(l.Objects) != 1 || !bytes.Equal(l.Objects[0].Value, val) {
			t.Fatalf("list: %+v %v", l, err)
		}
	}
	waitSnapshot(t, c1.DataDir)
	waitSnapshot(t, c2.DataDir)
	// The tail of the log (entries after the last snapshot) is in raft.db.
	if _, err := store.Create(ctx, m2, secretKey("tail"), []byte("SECRET-AT-REST-MARKER-TAIL")); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Create(ctx, m2, cm("tail"), []byte("CONFIGMAP-AT-REST-MARKER-TAIL")); err != nil {
		t.Fatal(err)
	}
	if _, err := m2.Get(ctx, cm("tail"), store.ReadOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{c1.DataDir, c2.DataDir} {
		if hits := grepDir(t, dir, []byte("SECRET-AT-REST-MARKER")); len(hits) > 0 {
			t.Errorf("plaintext Secret value in %v", hits)
		}
		hits := grepDir(t, dir, []byte("CONFIGMAP-AT-REST-MARKER"))
		if !slices.Contains(hits, filepath.Join(dir, "state.db")) || !slices.Contains(hits, filepath.Join(dir, "raft.db")) ||
			!slices.ContainsFunc(hits, func(h string) bool { return filepath.Base(h) == "state.bin" }) {
			t.Errorf("the unencrypted ConfigMap is not in state.db, raft.db and a snapshot (hits %v): the grep proves nothing", hits)
		}
		if len(grepDir(t, dir, []byte("k8s:enc:aesgcm:v1:"))) == 0 {
			t.Errorf("no aesgcm ciphertext in %s", dir)
		}
	}
	a, _ := os.ReadFile(filepath.Join(c1.DataDir, store.EncryptionFile))
	b, _ := os.ReadFile(filepath.Join(c2.DataDir, store.EncryptionFile))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Fatalf("members' encryption configs differ:\n%s\n%s", a, b)
	}
	if bytes.Contains(a, []byte(storetest.Encryption().KeyNames()[0])) {
		t.Fatal("the bootstrapping member did not generate its own key")
	}
}

func noEncryptionConfig(t *testing.T, c store.Config) {
	t.Helper()
	if err := os.Remove(filepath.Join(c.DataDir, store.EncryptionFile)); err != nil {
		t.Fatal(err)
	}
}

// TestRotateEncryptionKey: a rotation (asked of a follower) makes a new
// key, rewrites every Secret with it and drops the old key on every
// member; every value stays readable everywhere.
func TestRotateEncryptionKey(t *testing.T) {
	ms := startCluster(t, nil)
	ctx := ctxT(t)
	li, _ := leaderOf(t, ms)
	follower := ms[(li+1)%3]
	old := ms[0].EncryptionKeys()
	if len(old) != 1 {
		t.Fatalf("keys before: %v", old)
	}
	for i := 0; i < 20; i++ {
		if _, err := store.Create(ctx, ms[i%3], secretKey(fmt.Sprint("s", i)), []byte(fmt.Sprint("value-", i))); err != nil {
			t.Fatal(err)
		}
	}
	res, err := follower.RotateEncryption(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rewritten != 20 || !slices.Equal(res.Dropped, old) || res.Key == old[0] {
		t.Fatalf("rotation: %+v (old keys %v)", res, old)
	}
	for i, m := range ms {
		if keys := m.EncryptionKeys(); !slices.Equal(keys, []string{res.Key}) {
			t.Fatalf("member %d keys %v, want only %s", i, keys, res.Key)
		}
		for j := 0; j < 20; j++ {
			o, err := m.Get(ctx, secretKey(fmt.Sprint("s", j)), store.ReadOptions{})
			if err != nil || string(o.Value) != fmt.Sprint("value-", j) {
				t.Fatalf("member %d secret %d after rotation: %q %v", i, j, o.Value, err)
			}
		}
	}
	// A rotation that keeps the old key rewrites every value again and
	// leaves both keys readable, the new one writing.
	res2, err := ms[li].RotateEncryption(ctx, true)
	if err != nil || res2.Rewritten != 20 || len(res2.Dropped) != 0 {
		t.Fatalf("second rotation: %+v %v", res2, err)
	}
	if keys := ms[0].EncryptionKeys(); !slices.Equal(keys, []string{res2.Key, res.Key}) {
		t.Fatalf("keys after a rotation that keeps the old key: %v", keys)
	}
}

// TestIdentityReadsOldPlaintext: Secrets written while a member had no
// encryption config stay readable once it has one (identity is the read
// fallback), and a rotation encrypts them.
func TestIdentityReadsOldPlaintext(t *testing.T) {
	ctx := ctxT(t)
	cfg := storetest.Config("m1", t.TempDir())
	cfg.Bootstrap, cfg.PeerAddr = true, freePort(t)
	s, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	cfgPath := filepath.Join(cfg.DataDir, store.EncryptionFile)
	if err := os.Remove(cfgPath); err != nil {
		t.Fatal(err)
	}
	reopen := func() *store.Store {
		c := cfg
		c.Bootstrap = false
		s, err := store.Open(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if err := storetest.WaitReady(ctx, s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	s = reopen()
	if keys := s.EncryptionKeys(); keys != nil {
		t.Fatalf("keys without a config: %v", keys)
	}
	if _, err := store.Create(ctx, s, secretKey("old"), []byte("OLD-PLAINTEXT")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if len(grepDir(t, filepath.Join(cfg.DataDir, "state.db"), []byte("OLD-PLAINTEXT"))) == 0 {
		t.Fatal("the unencrypted write is not in state.db")
	}
	c, err := encrypt.Generate()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Save(cfgPath); err != nil {
		t.Fatal(err)
	}
	s = reopen()
	defer s.Close()
	if o, err := s.Get(ctx, secretKey("old"), store.ReadOptions{}); err != nil || string(o.Value) != "OLD-PLAINTEXT" {
		t.Fatalf("old plaintext through identity: %q %v", o.Value, err)
	}
	res, err := s.RotateEncryption(ctx, false)
	if err != nil || res.Rewritten != 1 {
		t.Fatalf("rotation: %+v %v", res, err)
	}
	if o, err := s.Get(ctx, secretKey("old"), store.ReadOptions{}); err != nil || string(o.Value) != "OLD-PLAINTEXT" {
		t.Fatalf("after rotation: %q %v", o.Value, err)
	}
	// Without any config, an encrypted value is an error, not ciphertext.
	s.Close()
	if err := os.Remove(cfgPath); err != nil {
		t.Fatal(err)
	}
	s = reopen()
	defer s.Close()
	if o, err := s.Get(ctx, secretKey("old"), store.ReadOptions{}); err == nil {
		t.Fatalf("encrypted value read without a key: %q", o.Value)
	}
}

// TestDataDirIsPrivate: a pre-existing loose data dir is tightened at
// start; every file the member writes, snapshots included, is 0600 in
// 0700 dirs.
func TestDataDirIsPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sub", "old"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := storetest.Config("m1", dir)
	cfg.Bootstrap = true
	snappy(&cfg)
	s := storetest.Open(t, cfg)
	ctx := ctxT(t)
	for i := 0; i < 30; i++ {
		if _, err := store.Create(ctx, s, secretKey(fmt.Sprint("s", i)), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	snaps := waitSnapshot(t, dir)
	time.Sleep(300 * time.Millisecond) // let a snapshot in flight finish
	seen := map[string]bool{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if info.Mode().Perm() != want && !isTemp(path) {
			t.Errorf("%s: mode %v, want %v", path, info.Mode().Perm(), want)
		}
		seen[filepath.Base(path)] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"state.db", "raft.db", "state.bin", "meta.json", "peer.crt", "peer.key", store.EncryptionFile, "old"} {
		if !seen[f] {
			t.Errorf("no %s in the data dir (snapshots: %v)", f, snaps)
		}
	}
}

// isTemp: a snapshot still being written (raft's <id>.tmp dir) lives in
// the 0700 snapshots dir and is tightened when it completes.
func isTemp(path string) bool {
	return filepath.Ext(filepath.Dir(path)) == ".tmp" || filepath.Ext(path) == ".tmp"
}

// TestRestoreNeedsTheEncryptionConfig: a snapshot with encrypted Secrets
// restores only with the config of the cluster it came from.
func TestRestoreNeedsTheEncryptionConfig(t *testing.T) {
	s := storetest.New(t)
	ctx := ctxT(t)
	if _, err := store.Create(ctx, s, secretKey("s"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := s.SaveSnapshot(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "snap.db")
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := store.Restore(ctx, file, dir, "r1", "127.0.0.1:0"); err == nil || !strings.Contains(err.Error(), "--encryption-config") {
		t.Fatalf("restore without the encryption config: %v", err)
	}
	other, _ := encrypt.Generate()
	otherFile := filepath.Join(t.TempDir(), "other.yaml")
	if err := other.Save(otherFile); err != nil {
		t.Fatal(err)
	}
	if err := store.InstallEncryptionConfig(otherFile, dir); err != nil {
		t.Fatal(err)
	}
	if err := store.Restore(ctx, file, dir, "r1", "127.0.0.1:0"); err == nil || !strings.Contains(err.Error(), "does not decrypt") {
		t.Fatalf("restore with another cluster's key: %v", err)
	}
	src := filepath.Join(t.TempDir(), "enc.yaml")
	if err := storetest.Encryption().Save(src); err != nil {
		t.Fatal(err)
	}
	if err := store.InstallEncryptionConfig(src, dir); err != nil {
		t.Fatal(err)
	}
	if err := store.Restore(ctx, file, dir, "r1", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	r := storetest.Open(t, storetest.Config("r1", dir))
	if o, err := r.Get(ctx, secretKey("s"), store.ReadOptions{}); err != nil || string(o.Value) != "v" {
		t.Fatalf("restored secret: %q %v", o.Value, err)
	}
}

// TestRotateTurnsEncryptionOn: a member that ran without an encryption
// config (a cluster from before encryption) gets one by rotating, and its
// plaintext Secrets are encrypted.
func TestRotateTurnsEncryptionOn(t *testing.T) {
	ctx := ctxT(t)
	cfg := storetest.Config("m1", t.TempDir())
	cfg.Bootstrap = true
	noEncryptionConfig(t, cfg)
	// Bootstrapping generates a config; drop it as an older weir had none.
	s, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	noEncryptionConfig(t, cfg)
	cfg.Bootstrap, cfg.PeerAddr = false, s.PeerAddr()
	s = storetest.Open(t, cfg)
	if _, err := store.Create(ctx, s, secretKey("p"), []byte("PLAIN-BEFORE-ROTATION")); err != nil {
		t.Fatal(err)
	}
	res, err := s.RotateEncryption(ctx, false)
	if err != nil || res.Rewritten != 1 {
		t.Fatalf("rotation: %+v %v", res, err)
	}
	c, err := encrypt.Load(filepath.Join(cfg.DataDir, store.EncryptionFile))
	if err != nil || !slices.Equal(c.KeyNames(), []string{res.Key}) {
		t.Fatalf("config after rotation: %v %v", c, err)
	}
	for _, r := range encrypt.DefaultResources {
		if tr, _ := c.Transformers(); !tr.Covers(r) {
			t.Errorf("rotation left %s unencrypted", r)
		}
	}
	if o, err := s.Get(ctx, secretKey("p"), store.ReadOptions{}); err != nil || string(o.Value) != "PLAIN-BEFORE-ROTATION" {
		t.Fatalf("after rotation: %q %v", o.Value, err)
	}
	var buf bytes.Buffer
	if _, err := s.SaveSnapshot(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	// The state holds the Secret's ciphertext under the new key now (the
	// watch history and the raft log keep the old plaintext entry until
	// compaction, as documented).
	if !bytes.Contains(buf.Bytes(), []byte("k8s:enc:aesgcm:v1:"+res.Key+":")) {
		t.Fatal("the rotated Secret is not encrypted in the state")
	}
}
