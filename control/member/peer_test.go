package member

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/weirnet/weir/control/store"
)

// TestMemberPeerIdentityAndPrivateFiles: a joining member gets a member
// certificate (CN weir:member:NAME, O weir:members) from the cluster CA
// and the cluster's encryption config; restarted, it speaks to its peer
// with that certificate (a write through it commits); a pre-existing loose
// data dir is tightened, and every file of both members is 0600 in a 0700
// dir.
func TestMemberPeerIdentityAndPrivateFiles(t *testing.T) {
	d1 := filepath.Join(t.TempDir(), "m1")
	if err := os.MkdirAll(d1, 0o755); err != nil {
		t.Fatal(err)
	}
	m1 := startMember(t, Config{Name: "m1", DataDir: d1, Bootstrap: true})
	d2 := t.TempDir()
	if err := os.WriteFile(filepath.Join(d2, "cluster-secret"), mustRead(t, filepath.Join(d1, "cluster-secret")), 0o644); err != nil {
		t.Fatal(err)
	}
	m2 := startMember(t, Config{Name: "m2", DataDir: d2, Join: []string{m1.Store.PeerAddr()}})

	blk, _ := pem.Decode(mustRead(t, filepath.Join(d2, "peer.crt")))
	if blk == nil {
		t.Fatal("peer.crt is not PEM")
	}
	leaf, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if leaf.Subject.CommonName != "weir:member:m2" || !slices.Equal(leaf.Subject.Organization, []string{"weir:members"}) {
		t.Fatalf("m2's peer certificate subject %v", leaf.Subject)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(m1.CACert())
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatalf("m2's peer certificate is not from the cluster CA: %v", err)
	}
	if !bytes.Equal(mustRead(t, filepath.Join(d1, store.EncryptionFile)), mustRead(t, filepath.Join(d2, store.EncryptionFile))) {
		t.Fatal("members' encryption configs differ")
	}

	peer2 := m2.Store.PeerAddr()
	m2.Close()
	m2 = startMember(t, Config{Name: "m2", DataDir: d2, Peer: peer2})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	key := store.Key{Resource: "secrets", Namespace: "default", Name: "after-restart"}
	if _, err := store.Create(ctx, m2.Store, key, []byte("v")); err != nil {
		t.Fatalf("write through the restarted member: %v", err)
	}
	if o, err := m1.Store.Get(ctx, key, store.ReadOptions{}); err != nil || string(o.Value) != "v" {
		t.Fatalf("read on m1: %q %v", o.Value, err)
	}

	for _, dir := range []string{d1, d2} {
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
			if info.Mode().Perm() != want {
				t.Errorf("%s: mode %v, want %v", path, info.Mode().Perm(), want)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
