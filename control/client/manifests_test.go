package client

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func cm(name string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n"
}

func TestReadManifestsDirectoryRecursive(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "b.yaml"), cm("b1")+"---\n"+cm("b2"))
	writeFile(t, filepath.Join(dir, "a.yml"), cm("a"))
	writeFile(t, filepath.Join(dir, "sub", "c.json"), `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}`)
	writeFile(t, filepath.Join(dir, "README.md"), "not a manifest")
	writeFile(t, filepath.Join(dir, "empty.yaml"), "# nothing here\n---\n")
	ms, err := ReadManifests([]string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, filepath.Base(m.Source)+":"+m.Object.GetName())
	}
	want := "a.yml:a b.yaml:b1 b.yaml:b2 c.json:c"
	if strings.Join(got, " ") != want {
		t.Errorf("objects = %v, want %s", got, want)
	}
}

func TestReadManifestsStdinAndFiles(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "x.txt") // an explicit file is read whatever its name
	writeFile(t, f, cm("file"))
	ms, err := ReadManifests([]string{"-", f}, strings.NewReader(cm("stdin")))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Source != "-" || ms[0].Object.GetName() != "stdin" || ms[1].Object.GetName() != "file" {
		t.Errorf("got %+v", ms)
	}
}

func TestReadManifestsErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	writeFile(t, bad, cm("ok")+"---\nkind: ConfigMap\nmetadata: {name: x}\n")
	empty := filepath.Join(dir, "emptydir")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		paths []string
		want  string
	}{
		{nil, "-f FILE"},
		{[]string{filepath.Join(dir, "missing.yaml")}, "no such file"},
		{[]string{bad}, "bad.yaml: manifest document 2"},
		{[]string{empty}, "holds no .yaml"},
	} {
		_, err := ReadManifests(tt.paths, strings.NewReader(""))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ReadManifests(%v) err = %v, want it to mention %q", tt.paths, err, tt.want)
		}
	}
}
