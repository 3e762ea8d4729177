package benchreport

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUpdateSectionKeepsOthers(t *testing.T) {
	p := filepath.Join(t.TempDir(), "b.md")
	if err := UpdateSection(p, "a", "A1"); err != nil {
		t.Fatal(err)
	}
	if err := UpdateSection(p, "b", "B1"); err != nil {
		t.Fatal(err)
	}
	if err := UpdateSection(p, "a", "A2\n"); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(p)
	s := string(data)
	if !strings.Contains(s, "<!-- bench:a -->\nA2\n<!-- /bench:a -->") || !strings.Contains(s, "B1") || strings.Contains(s, "A1") {
		t.Fatalf("unexpected document:\n%s", s)
	}
	if strings.Index(s, "bench:a") > strings.Index(s, "bench:b") {
		t.Fatalf("section a moved:\n%s", s)
	}
}
