package kernels

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/weirnet/weir/tests/testutil"
)

// binaries are the cmd/ programs `make build` must write as static ELF files.
var binaries = []string{"weir", "weir-cni", "weir-testserver", "mkimage"}

func TestBinariesAreStatic(t *testing.T) {
	dir := os.Getenv("WEIR_BIN")
	if dir == "" {
		if testutil.InCI() {
			t.Fatal("WEIR_BIN is unset under CI: run through `make test`, which builds bin/ and sets it")
		}
		t.Skip("WEIR_BIN unset: run `make build` and set WEIR_BIN=$PWD/bin")
	}
	for _, name := range binaries {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			if err := checkStatic(path); err != nil {
				t.Errorf("%s: %v (build with CGO_ENABLED=0, as `make build` does)", path, err)
			}
		})
	}
}

// TestCheckStaticRejectsDynamic proves checkStatic fails on a dynamically
// linked binary: the host's own /bin/sh is one on Debian.
func TestCheckStaticRejectsDynamic(t *testing.T) {
	for _, p := range []string{"/bin/sh", "/usr/bin/env"} {
		f, err := elf.Open(p)
		if err != nil {
			continue
		}
		dyn := f.Section(".interp") != nil
		f.Close()
		if !dyn {
			continue
		}
		if err := checkStatic(p); err == nil {
			t.Fatalf("checkStatic(%s) = nil, want an error for a dynamic binary", p)
		}
		return
	}
	t.Skip("no dynamically linked binary found on this host to check against")
}

// checkStatic returns an error when the ELF file at path asks for a dynamic
// loader (PT_INTERP) or shared libraries (DT_NEEDED).
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return errors.New("has an ELF interpreter (PT_INTERP): dynamically linked")
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		return err
	}
	if len(libs) > 0 {
		return fmt.Errorf("needs shared libraries %v", libs)
	}
	return nil
}
