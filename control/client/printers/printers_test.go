package printers

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/weirnet/weir/control/api/tables"
	"github.com/weirnet/weir/vocab/manifest"
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

// serverTable is what the API server answers for objs: the table of
// each (control/api/tables, the server's own printers) with its rows in
// one Table; the column definitions come with the first only when split
// (as in a watch).
func serverTable(t *testing.T, objs []*unstructured.Unstructured, split bool) []*metav1.Table {
	t.Helper()
	var out []*metav1.Table
	for _, o := range objs {
		var obj runtime.Object = o
		if typed, err := scheme.Scheme.New(o.GroupVersionKind()); err == nil {
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, typed); err != nil {
				t.Fatalf("%s: %v", o.GetName(), err)
			}
			obj = typed
		}
		tb, err := tables.Convert(obj, tables.Options{Now: now, NoHeaders: split && len(out) > 0})
		if err != nil {
			t.Fatalf("convert %s: %v", o.GetName(), err)
		}
		if !split && len(out) == 1 {
			out[0].Rows = append(out[0].Rows, tb.Rows...)
			continue
		}
		out = append(out, tb)
	}
	return out
}

// TestTables prints the server's tables of every testdata/get/<resource>.yaml
// plain, wide, across namespaces, without headers row by row (as a watch
// sends them) and with a kind prefix, and compares with <resource>.golden.
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
				opts  TableOptions
				split bool
			}{
				{"default", TableOptions{}, false},
				{"wide", TableOptions{Wide: true}, false},
				{"all namespaces", TableOptions{WithNamespace: true}, false},
				{"no headers, row by row", TableOptions{NoHeaders: true}, true},
				{"row by row", TableOptions{}, true},
				{"with kind prefix", TableOptions{Kind: schema.GroupKind{Group: "example", Kind: "Thing"}}, false},
			} {
				out.WriteString("== " + v.title + "\n")
				p := NewTablePrinter(&out, v.opts)
				for _, tb := range serverTable(t, objs, v.split) {
					if err := p.Print(tb); err != nil {
						t.Fatal(err)
					}
				}
			}
			golden(t, strings.TrimSuffix(f, ".yaml")+".golden", out.Bytes())
		})
	}
}

func TestTableNamespaceFromRawRowObject(t *testing.T) {
	var out bytes.Buffer
	if err := NewTablePrinter(&out, TableOptions{WithNamespace: true}).Print(&metav1.Table{
		ColumnDefinitions: []metav1.TableColumnDefinition{{Name: "Name", Type: "string", Format: "name"}},
		Rows:              []metav1.TableRow{{Cells: []any{"x"}, Object: runtime.RawExtension{Raw: []byte(`{"metadata":{"namespace":"ns1"}}`)}}},
	}); err != nil || out.String() != "NAMESPACE   NAME\nns1         x\n" {
		t.Errorf("namespace from the raw row object: %q, %v", out.String(), err)
	}
	out.Reset()
	if err := NewTablePrinter(&out, TableOptions{}).Print(&metav1.Table{
		ColumnDefinitions: []metav1.TableColumnDefinition{{Name: "Name", Type: "string", Format: "name"}},
	}); err != nil || out.Len() != 0 {
		t.Errorf("a table without rows printed %q, %v", out.String(), err)
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
			var events []*corev1.Event
			for _, o := range objs[1:] {
				ev := &corev1.Event{}
				if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, ev); err != nil {
					t.Fatalf("event %s: %v", o.GetName(), err)
				}
				events = append(events, ev)
			}
			var out bytes.Buffer
			if err := Describe(&out, objs[0], events, now); err != nil {
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
