package testutil

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	binOnce sync.Once
	binDir  string
	binErr  error
	binOut  []byte
)

// WeirBin is the directory holding the weir and weir-cni binaries:
// $WEIR_BIN when set (make test sets it), else a directory they are built
// into from this tree, once per test process. A test package that may
// build them calls RemoveBuiltBin from its TestMain.
func WeirBin(t testing.TB) string {
	t.Helper()
	if dir := os.Getenv("WEIR_BIN"); dir != "" {
		for _, b := range []string{"weir", "weir-cni"} {
			if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
				t.Fatalf("WEIR_BIN=%s: %v (run `make build`)", dir, err)
			}
		}
		return dir
	}
	binOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "weir-test-bin-"); binErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", binDir+"/", "github.com/weirnet/weir/cmd/weir", "github.com/weirnet/weir/cmd/weir-cni")
		binOut, binErr = cmd.CombinedOutput()
	})
	if binErr != nil {
		t.Fatalf("build weir and weir-cni: %v\n%s", binErr, binOut)
	}
	return binDir
}

// RemoveBuiltBin removes the directory WeirBin built the binaries into.
func RemoveBuiltBin() {
	if binDir != "" {
		os.RemoveAll(binDir)
	}
}

// FreeLocalPort is a 127.0.0.1:PORT that was free a moment ago.
func FreeLocalPort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
