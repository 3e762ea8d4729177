package client

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// failingReader yields some data, then an error, like a broken stream.
type failingReader struct{ sent bool }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.sent {
		return 0, errors.New("connection reset")
	}
	r.sent = true
	return copy(p, "partial"), nil
}

func TestWriteAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "snap.db")
	n, err := writeAtomic(path, strings.NewReader("first"))
	if err != nil || n != 5 {
		t.Fatalf("writeAtomic = %d, %v", n, err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("snapshot mode = %v, want 0600 (it holds secrets)", st.Mode().Perm())
	}
	if _, err := writeAtomic(path, &failingReader{}); err == nil || !strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("broken stream: err = %v", err)
	}
	data, _ := os.ReadFile(path)
	if string(data) != "first" {
		t.Errorf("a failed save changed the file to %q", data)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("%d files left in the directory, want 1 (no temporary files)", len(entries))
	}
	if _, err := writeAtomic(filepath.Join(dir, "missing", "x"), io.LimitReader(nil, 0)); err == nil {
		t.Error("missing directory: no error")
	}
}

func TestDecodeMembers(t *testing.T) {
	for _, body := range []string{
		`{"members":[{"name":"m1","peerAddr":"127.0.0.1:2380","apiAddr":"127.0.0.1:6443","voter":true,"leader":true}]}`,
		`[{"name":"m1","peerAddr":"127.0.0.1:2380","apiAddr":"127.0.0.1:6443","voter":true,"leader":true}]`,
		`{"items":[{"name":"m1","peerAddr":"127.0.0.1:2380","apiAddr":"127.0.0.1:6443","voter":true,"leader":true}]}`,
	} {
		ms, err := decodeMembers([]byte(body))
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		want := Member{Name: "m1", PeerAddr: "127.0.0.1:2380", APIAddr: "127.0.0.1:6443", Voter: true, Leader: true}
		if len(ms) != 1 || ms[0] != want {
			t.Errorf("%s: got %+v", body, ms)
		}
	}
	if _, err := decodeMembers([]byte(`"nope"`)); err == nil {
		t.Error("a string decoded as members")
	}
}
