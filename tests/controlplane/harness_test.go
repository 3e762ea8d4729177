package controlplane

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weirnet/weir/tests/controlplane/cluster"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
	buildOut  []byte
)

// weirBin is $WEIR_BIN/weir when WEIR_BIN is set (make test), else a weir
// binary built once per test binary into a temp dir.
func weirBin(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("WEIR_BIN"); dir != "" {
		p := filepath.Join(dir, "weir")
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("WEIR_BIN=%s: %v (run `make build`)", dir, err)
		}
		return p
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "weir-controlplane-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "weir")
		cmd := exec.Command("go", "build", "-o", builtBin, "github.com/weirnet/weir/cmd/weir")
		buildOut, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("build weir: %v\n%s", buildErr, buildOut)
	}
	return builtBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if builtBin != "" {
		os.RemoveAll(filepath.Dir(builtBin))
	}
	os.Exit(code)
}

// startCluster starts a 3-member cluster for t, killed again when t ends
// (also when it fails; then the members' log tails are logged).
func startCluster(t *testing.T, extraArgs ...string) *cluster.Cluster {
	t.Helper()
	c := prepareCluster(t, cluster.Options{Args: extraArgs})
	launch(t, c)
	return c
}

// prepareCluster lays out a cluster in a temp dir without starting it;
// opts.Bin, Dir and Logf are filled in. Every member it starts later is
// killed when t ends.
func prepareCluster(t *testing.T, opts cluster.Options) *cluster.Cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("multi-process cluster test; skipped with -short")
	}
	opts.Bin = weirBin(t)
	opts.Dir = t.TempDir()
	if os.Getenv("WEIR_TEST_KEEP") != "" {
		var err error
		if opts.Dir, err = os.MkdirTemp("", "weir-"+strings.ReplaceAll(t.Name(), "/", "_")+"-"); err != nil {
			t.Fatal(err)
		}
	}
	opts.Logf = t.Logf
	c, err := cluster.Prepare(opts)
	if err != nil {
		t.Fatalf("prepare cluster: %v", err)
	}
	t.Cleanup(func() {
		c.Close()
		if t.Failed() {
			t.Logf("member logs (dir %s):\n%s", opts.Dir, c.LogTails(40))
		}
	})
	return c
}

// launch starts a prepared cluster and waits until it is ready.
func launch(t *testing.T, c *cluster.Cluster) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()
	if err := c.Launch(ctx); err != nil {
		t.Fatalf("start cluster: %v", err)
	}
	t.Logf("%d-member cluster ready in %v", len(c.Members), time.Since(start).Round(time.Millisecond))
}

// testCtx is a context that ends with the test or after d.
func testCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// configMap is the JSON of a ConfigMap in namespace default.
func configMap(name string, data map[string]string) []byte {
	b, _ := json.Marshal(map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": name, "namespace": "default"},
		"data":     data,
	})
	return b
}

const cmPath = "/api/v1/namespaces/default/configmaps"
