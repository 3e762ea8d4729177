package dataplane

import (
	"os"
	"regexp"
	"strconv"
	"testing"
	"unsafe"
)

// TestLayoutMatchesC: struct layouts come from bpf2go (BTF of the object),
// but flag values are #defines Go repeats; this keeps them equal, and
// checks the generated struct sizes the programs rely on.
func TestLayoutMatchesC(t *testing.T) {
	src, err := os.ReadFile("../bpf/include/lb.h")
	if err != nil {
		t.Fatal(err)
	}
	defs := map[string]uint64{}
	for _, m := range regexp.MustCompile(`(?m)^#define (\w+) (0x[0-9a-fA-F]+|\d+)`).FindAllStringSubmatch(string(src), -1) {
		v, err := strconv.ParseUint(m[2], 0, 64)
		if err != nil {
			t.Fatal(err)
		}
		defs[m[1]] = v
	}
	for name, goVal := range map[string]uint64{
		"SVC_F_CLUSTERIP":       uint64(flagClusterIP),
		"SVC_F_EXTERNAL":        uint64(flagExternal),
		"SVC_F_NODEPORT":        uint64(flagNodePort),
		"BACKEND_F_TERMINATING": backendTerminating,
	} {
		if c, ok := defs[name]; !ok || c != goVal {
			t.Errorf("%s: C says %d (found %v), Go says %d", name, c, ok, goVal)
		}
	}
	for name, got := range map[string]uintptr{
		"svc_key": unsafe.Sizeof(lbSvcKey{}), "svc_val": unsafe.Sizeof(lbSvcVal{}),
		"backend": unsafe.Sizeof(lbBackend{}), "rev_nat": unsafe.Sizeof(lbRevNat{}),
		"ct_key": unsafe.Sizeof(lbCtKey{}), "ct_val": unsafe.Sizeof(lbCtVal{}),
	} {
		want := map[string]uintptr{"svc_key": 24, "svc_val": 24, "backend": 24, "rev_nat": 24, "ct_key": 40, "ct_val": 64}[name]
		if got != want {
			t.Errorf("struct %s is %d bytes in Go, want %d", name, got, want)
		}
	}
}
