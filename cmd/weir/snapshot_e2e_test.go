package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/weirnet/weir/tests/testutil"
)

func TestCLISnapshotSaveRestore(t *testing.T) {
	e := newCLIEnv(t)
	e.mustRun(t, applyCmd, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kept}\n", "-f", "-")
	file := filepath.Join(t.TempDir(), "snap.db")
	out := e.mustRun(t, snapshotCmd, "", "save", file)
	m := regexp.MustCompile(`^saved snapshot at revision (\d+) to (\S+) \((\d+) bytes\)\n$`).FindStringSubmatch(out)
	if m == nil || m[2] != file {
		t.Fatalf("snapshot save: %q", out)
	}
	st, err := os.Stat(file)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("snapshot file: %v %v, want mode 0600", st, err)
	}

	// restore is offline: no server flags.
	restore := func(args ...string) (string, error) {
		var out, errOut testutil.SyncBuffer
		err := snapshotCmd(context.Background(), cliIO{in: strings.NewReader(""), out: &out, errOut: &errOut}, append([]string{"restore"}, args...))
		return out.String(), err
	}
	dir := filepath.Join(t.TempDir(), "restored")
	out, err = restore(file, "--data-dir", dir, "--name", "r1", "--peer", "127.0.0.1:0")
	if err != nil || !strings.HasPrefix(out, "restored "+file) {
		t.Fatalf("restore: %v %q", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "state.db")); err != nil {
		t.Errorf("restored data dir lacks the state: %v", err)
	}
	if _, err := restore(file, "--data-dir", dir, "--name", "r1", "--peer", "127.0.0.1:0"); err == nil {
		t.Error("restoring into a used data dir: no error")
	}
	if _, err := restore(file, "--data-dir", t.TempDir()); err == nil {
		t.Error("restore without --name and --peer: no error")
	}
	for _, args := range [][]string{{}, {"save"}, {"bogus"}} {
		if _, _, err := e.run(t, snapshotCmd, "", args...); err == nil {
			t.Errorf("snapshot %v: no error", args)
		}
	}
}
