package vocab_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestVocabularyImportsNothingAbove: nothing under vocab/ imports weir's
// control plane, node agent, dataplane, DNS, CNI or local cluster, so
// that every part can import the vocabulary without a cycle or a heavy
// dependency.
func TestVocabularyImportsNothingAbove(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/weirnet/weir/vocab/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		rest, ok := strings.CutPrefix(p, "github.com/weirnet/weir/")
		if !ok {
			continue
		}
		if top, _, _ := strings.Cut(rest, "/"); top != "vocab" {
			t.Errorf("vocab depends on %s", p)
		}
	}
}
