package push

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// weirBin is $WEIR_BIN/weir (make test) or a weir built into a temp dir.
func weirBin(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("WEIR_BIN"); dir != "" {
		return filepath.Join(dir, "weir")
	}
	bin := filepath.Join(t.TempDir(), "weir")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/weirnet/weir/cmd/weir").CombinedOutput(); err != nil {
		t.Fatalf("build weir: %v\n%s", err, out)
	}
	return bin
}

// TestSmallRun runs the benchmark small: every figure is produced and the
// report is written.
func TestSmallRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-member control plane; skipped with -short")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := Run(ctx, Config{WeirBin: weirBin(t), Agents: 6, Singles: 10, Bursts: 1, BurstSize: 100, Writers: 4,
		Heartbeat: 500 * time.Millisecond, Idle: time.Second, Dir: dir, Out: filepath.Join(dir, "bench.md"),
		JSONDir: dir, Command: "test", Log: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Single.Changes != 10 || res.Single.P50Ms <= 0 || res.Single.P99Ms < res.Single.P50Ms || len(res.Burst.TotalMs) != 1 {
		t.Errorf("result %+v", res)
	}
	if res.Resources.RSSAfterKiB <= 0 {
		t.Errorf("no RSS measured: %+v", res.Resources)
	}
	for _, f := range []string{"bench.md", "push.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }
