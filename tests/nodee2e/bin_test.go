package nodee2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/weirnet/weir/tests/testutil"
)

// binaries returns the weir and weir-cni binaries (testutil.WeirBin).
func binaries(t *testing.T) (weir, cni string) {
	t.Helper()
	dir := testutil.WeirBin(t)
	return filepath.Join(dir, "weir"), filepath.Join(dir, "weir-cni")
}

func TestMain(m *testing.M) {
	if os.Getenv(probeEnv) != "" {
		os.Exit(probeMain())
	}
	code := m.Run()
	testutil.RemoveBuiltBin()
	os.Exit(code)
}
