package printers

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/weirnet/weir/control/api/manifest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// now is the clock every golden file is printed against.
var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func readObjects(t *testing.T, path string) []*unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := manifest.DecodeManifest(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return objs
}

// golden compares got with the file, or rewrites it under -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update after checking):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// TestTables prints every testdata/get/<resource>.yaml plain, wide, across
// namespaces and without headers, and compares with <resource>.golden.
func TestTables(t *testing.T) {
	files, _ := filepath.Glob("testdata/get/*.yaml")
	if len(files) == 0 {
		t.Fatal("no fixtures")
	}
	for _, f := range files {
		resource := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(resource, func(t *testing.T) {
			objs := readObjects(t, f)
			var out bytes.Buffer
			for _, v := range []struct {
				title string
				opts  Options
			}{
				{"default", Options{}},
				{"wide", Options{Wide: true}},
				{"all namespaces", Options{AllNamespaces: true}},
				{"no headers, row by row", Options{NoHeaders: true}},
				{"with kind prefix", Options{KindPrefix: "thing.example"}},
			} {
				out.WriteString("== " + v.title + "\n")
				v.opts.Now = now
				p := NewTablePrinter(&out, resource, v.opts)
				if v.opts.NoHeaders {
					for _, o := range objs {
						if err := p.Print(o); err != nil {
							t.Fatal(err)
						}
					}
				} else if err := p.Print(objs...); err != nil {
					t.Fatal(err)
				}
			}
			golden(t, strings.TrimSuffix(f, ".yaml")+".golden", out.Bytes())
		})
	}
}

// TestDescribe describes the first object of each testdata/describe file
// with the events among the rest.
func TestDescribe(t *testing.T) {
	files, _ := filepath.Glob("testdata/describe/*.yaml")
	if len(files) == 0 {
		t.Fatal("no fixtures")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			objs := readObjects(t, f)
			var out bytes.Buffer
			if err := Describe(&out, objs[0], objs[1:], now); err != nil {
				t.Fatal(err)
			}
			golden(t, strings.TrimSuffix(f, ".yaml")+".golden", out.Bytes())
		})
	}
}

func TestDescribeNeverShowsSecretValues(t *testing.T) {
	objs := readObjects(t, "testdata/describe/secret.yaml")
	var out bytes.Buffer
	if err := Describe(&out, objs[0], nil, now); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"hunter2", "aHVudGVyMg", "admin"} {
		if strings.Contains(out.String(), v) {
			t.Errorf("describe output shows secret data %q:\n%s", v, out.String())
		}
	}
}

func TestPrintTableRejectsMistypedObject(t *testing.T) {
	bad := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": "x"},
		"spec": map[string]any{"containers": "not a list"},
	}}
	err := NewTablePrinter(&bytes.Buffer{}, "pods", Options{Now: now}).Print(bad)
	if err == nil || !strings.Contains(err.Error(), "Pod x") {
		t.Errorf("err = %v, want an error naming the object", err)
	}
}

func TestOutputFormats(t *testing.T) {
	objs := readObjects(t, "testdata/get/configmaps.yaml")
	var out bytes.Buffer
	for _, format := range []string{"yaml", "json"} {
		out.WriteString("== object " + format + "\n")
		if err := PrintObject(&out, format, objs[0]); err != nil {
			t.Fatal(err)
		}
		out.WriteString("== list " + format + "\n")
		if err := PrintList(&out, format, objs, "42"); err != nil {
			t.Fatal(err)
		}
	}
	out.WriteString("== name\n")
	for _, o := range objs {
		if err := PrintName(&out, "configmap", o); err != nil {
			t.Fatal(err)
		}
	}
	golden(t, "testdata/output.golden", out.Bytes())
	if err := PrintObject(&out, "xml", objs[0]); err == nil {
		t.Error("unknown format: no error")
	}
}
