package benchreport

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// UpdateSection replaces (or appends) the section NAME of the markdown file
// at path with body. The file is created with a title when missing.
func UpdateSection(path, name, body string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if len(old) == 0 {
		old = []byte("# weir benchmarks\n\nLatest figures from `make bench` (each section says the command that produced it). " +
			"Timings on a shared 2-core VM are noisy: compare the ratios measured in the same run.\n")
	}
	out := replaceSection(string(old), name, body)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(out), 0o644)
}

func replaceSection(doc, name, body string) string {
	begin := "<!-- bench:" + name + " -->"
	end := "<!-- /bench:" + name + " -->"
	section := begin + "\n" + strings.TrimRight(body, "\n") + "\n" + end
	i := strings.Index(doc, begin)
	j := strings.Index(doc, end)
	if i >= 0 && j > i {
		return doc[:i] + section + doc[j+len(end):]
	}
	return strings.TrimRight(doc, "\n") + "\n\n" + section + "\n"
}

// WriteJSON writes v as indented JSON to dir/NAME.json.
func WriteJSON(dir, name string, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name+".json"), buf.Bytes(), 0o644)
}
