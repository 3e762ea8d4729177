package nodee2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
	buildOut  []byte
)

// binaries returns the weir and weir-cni binaries: $WEIR_BIN/{weir,weir-cni}
// when WEIR_BIN is set (make test), else built once into a temp dir.
func binaries(t *testing.T) (weir, cni string) {
	t.Helper()
	if dir := os.Getenv("WEIR_BIN"); dir != "" {
		weir, cni = filepath.Join(dir, "weir"), filepath.Join(dir, "weir-cni")
		for _, p := range []string{weir, cni} {
			if _, err := os.Stat(p); err != nil {
				t.Fatalf("WEIR_BIN=%s: %v (run `make build`)", dir, err)
			}
		}
		return weir, cni
	}
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "weir-nodee2e-bin-"); buildErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", buildDir+"/", "github.com/weirnet/weir/cmd/weir", "github.com/weirnet/weir/cmd/weir-cni")
		buildOut, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("build weir and weir-cni: %v\n%s", buildErr, buildOut)
	}
	return filepath.Join(buildDir, "weir"), filepath.Join(buildDir, "weir-cni")
}

func TestMain(m *testing.M) {
	if os.Getenv(probeEnv) != "" {
		os.Exit(probeMain())
	}
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}
