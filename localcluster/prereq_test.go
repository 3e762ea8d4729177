package localcluster

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/weirnet/weir/tests/testutil"
)

// TestUpSaysWhatIsMissing: without the weir binaries Up stops before it
// creates anything and names each missing piece with what to do.
func TestUpSaysWhatIsMissing(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	cfg := Config{DataDir: filepath.Join(dir, "data"), Bin: filepath.Join(dir, "nobin"), Prefix: testutil.UniqueName("weirlc"), Listen: "127.0.0.1:1", Out: &out, NoClientConfig: true}
	err := Up(context.Background(), cfg)
	if err == nil {
		t.Fatal("Up without binaries succeeded")
	}
	for _, want := range []string{"weir not found in " + cfg.Bin, "weir-cni not found", "make build"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if os.Geteuid() != 0 && !strings.Contains(err.Error(), "sudo weir up") {
		t.Errorf("error %q does not ask for root", err)
	}
	if _, err := os.Stat(cfg.DataDir); !os.IsNotExist(err) {
		t.Errorf("Up created %s before failing its prerequisites", cfg.DataDir)
	}
	if netnsExists(cfg.underlay()) {
		t.Errorf("Up created netns %s", cfg.underlay())
	}
}

// TestDownWithoutCluster: Down of a data dir that holds nothing (or a
// corrupt record) ends cleanly or says what is wrong, without a panic.
func TestDownWithoutCluster(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	var out bytes.Buffer
	if err := Down(Config{DataDir: dir, Out: &out}, false); err != nil {
		t.Fatalf("Down of an empty data dir: %v", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cluster.json"), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := Down(Config{DataDir: dir, Out: &out}, false)
	if err == nil || !strings.Contains(err.Error(), "cluster.json") {
		t.Fatalf("Down with a corrupt record: %v", err)
	}
}
