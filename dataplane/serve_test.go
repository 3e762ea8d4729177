package dataplane

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weirnet/weir/tests/testutil"
)

// TestServeResyncs: Serve applies the file, re-applies it when it changes,
// and keeps the last good state when it stops parsing.
func TestServeResyncs(t *testing.T) {
	testutil.RequirePrivileged(t)
	m := newTestManager(t, goldenConfig(t))
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join("testdata", "objects.yaml"))
	must(t, err)
	file := filepath.Join(dir, "svc.yaml")
	must(t, os.WriteFile(file, src, 0o644))

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := Serve(ctx, m, dir, 20*time.Millisecond); err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	defer wg.Wait()
	defer cancel()

	waitDump(t, m, "backend 1 10.244.1.6:5353")
	must(t, os.WriteFile(file, bytes.ReplaceAll(src, []byte("10.244.1.6"), []byte("10.244.1.66")), 0o644))
	waitDump(t, m, "10.244.1.66:5353")
	// Replaced by a rename, as editors and config tools do: a truncating
	// write caught empty for two polls (a preempted writer on a loaded
	// machine) is a valid empty file, with no services.
	tmp := filepath.Join(t.TempDir(), "svc.yaml")
	must(t, os.WriteFile(tmp, []byte("kind: [\n"), 0o644))
	must(t, os.Rename(tmp, file))
	time.Sleep(100 * time.Millisecond)
	waitDump(t, m, "10.244.1.66:5353") // the broken file changed nothing
}

func waitDump(t *testing.T, m *Manager, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	var buf bytes.Buffer
	for time.Now().Before(deadline) {
		buf.Reset()
		must(t, m.Dump(&buf))
		if strings.Contains(buf.String(), want) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("dump never showed %q:\n%s", want, buf.String())
}
