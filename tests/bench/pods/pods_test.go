package pods

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weirnet/weir/tests/testutil"
)

// binDir is $WEIR_BIN (make test) or weir and weir-cni built into a temp
// dir.
func binDir(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("WEIR_BIN"); dir != "" {
		return dir
	}
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", dir+"/", "github.com/weirnet/weir/cmd/weir", "github.com/weirnet/weir/cmd/weir-cni")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build weir and weir-cni: %v\n%s", err, out)
	}
	return dir
}

// TestSmallRun runs the benchmark small on real nodes: every pod is
// measured through every stage and the report is written.
func TestSmallRun(t *testing.T) {
	testutil.RequirePrivileged(t)
	for _, b := range []string{"containerd", "runc", "busybox", "nsenter"} {
		testutil.RequireBinary(t, b, exec.LookPath)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := Run(ctx, Config{Bin: binDir(t), Pods: 6, Rate: 3, Dir: dir, Out: filepath.Join(dir, "bench.md"),
		JSONDir: dir, Command: "test", Log: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, k := range res.PerNode {
		total += k
	}
	if res.Pods != 6 || total != 6 || res.Ready.P50Ms <= 0 || res.Ready.MaxMs < res.Ready.P99Ms || len(res.Stages) != 6 || res.Stages[2].P50Ms <= 0 {
		t.Errorf("result %+v", res)
	}
	if len(res.Groups) != 2 || res.Groups[0].Pods != 3 || res.Groups[1].Pods != 3 || res.Groups[1].Ready.P50Ms <= 0 || res.Groups[1].Stages[1].P50Ms <= 0 {
		t.Errorf("groups (bare, volumes) %+v", res.Groups)
	}
	md, err := os.ReadFile(filepath.Join(dir, "bench.md"))
	if err != nil || !strings.Contains(string(md), "<!-- bench:pods -->") || !strings.Contains(string(md), "volumes / bare") {
		t.Errorf("bench.md: %v\n%s", err, md)
	}
	if _, err := os.Stat(filepath.Join(dir, "pods.json")); err != nil {
		t.Error(err)
	}
}

func TestDist(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	if got := dist(d); got != (Dist{P50Ms: 50, P99Ms: 99, MaxMs: 100}) {
		t.Errorf("dist of 1..100 ms = %+v", got)
	}
	if got := dist(nil); got != (Dist{}) {
		t.Errorf("dist of nothing = %+v", got)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
