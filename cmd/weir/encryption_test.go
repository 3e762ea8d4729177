package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weirnet/weir/control/store"
	"github.com/weirnet/weir/control/store/storetest"
)

// TestEncryptionRotateCommand rotates through a joined member's peer port
// with the member certificate from its data dir, then lists the keys.
func TestEncryptionRotateCommand(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c1 := storetest.Config("m1", t.TempDir())
	c1.Bootstrap = true
	m1 := storetest.Open(t, c1)
	c2 := storetest.Config("m2", t.TempDir())
	c2.CA, c2.Join = nil, []string{m1.PeerAddr()}
	if err := os.Remove(filepath.Join(c2.DataDir, store.EncryptionFile)); err != nil {
		t.Fatal(err) // m2 gets it by joining
	}
	m2 := storetest.Open(t, c2)
	key := func(i int) store.Key {
		return store.Key{Resource: "secrets", Namespace: "default", Name: fmt.Sprint("s", i)}
	}
	for i := 0; i < 5; i++ {
		if _, err := store.Create(ctx, m1, key(i), []byte(fmt.Sprint("v", i))); err != nil {
			t.Fatal(err)
		}
	}
	old := m2.EncryptionKeys()
	run := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := encryptionCmd(ctx, cliIO{out: &out, errOut: &errOut}, args)
		return out.String(), err
	}
	out, err := run("rotate", "--data-dir", c2.DataDir, "--peer", m2.PeerAddr())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "5 values re-encrypted") || !strings.Contains(out, "dropped keys: "+old[0]) {
		t.Fatalf("rotate output: %q", out)
	}
	keys, err := run("keys", "--data-dir", c1.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(keys); len(got) != 1 || got[0] == old[0] || !strings.Contains(out, got[0]) {
		t.Fatalf("keys after rotation: %q (old %v, rotate said %q)", keys, old, out)
	}
	for i := 0; i < 5; i++ {
		if o, err := m2.Get(ctx, key(i), store.ReadOptions{}); err != nil || string(o.Value) != fmt.Sprint("v", i) {
			t.Fatalf("secret %d after rotation: %q %v", i, o.Value, err)
		}
	}
	if _, err := run("rotate", "--data-dir", t.TempDir(), "--peer", m1.PeerAddr()); err == nil || !strings.Contains(err.Error(), "member certificate") {
		t.Fatalf("rotate without a member certificate: %v", err)
	}
}
