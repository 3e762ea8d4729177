package manifest

import (
	"errors"
	"strings"
	"testing"
)

func TestDecodeManifestMultiDocument(t *testing.T) {
	in := `# leading comment
apiVersion: v1
kind: ConfigMap
metadata:
  name: a
  namespace: ns1
data:
  k: v
---
---
# empty document above is skipped
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
---
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Secret, metadata: {name: s1}}
- {apiVersion: v1, kind: Service, metadata: {name: svc1}}
`
	objs, err := DecodeManifest([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ConfigMap/a", "Deployment/web", "Secret/s1", "Service/svc1"}
	if len(objs) != len(want) {
		t.Fatalf("got %d objects, want %d", len(objs), len(want))
	}
	for i, o := range objs {
		if got := o.GetKind() + "/" + o.GetName(); got != want[i] {
			t.Errorf("object %d = %s, want %s", i, got, want[i])
		}
	}
	if objs[0].GetNamespace() != "ns1" {
		t.Errorf("namespace = %q", objs[0].GetNamespace())
	}
	if r, _, _ := unstructuredInt(objs[1].Object, "spec", "replicas"); r != 3 {
		t.Errorf("replicas = %v, want int64 3", r)
	}
}

func unstructuredInt(m map[string]any, path ...string) (int64, bool, error) {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return 0, false, nil
		}
		cur = mm[p]
	}
	i, ok := cur.(int64)
	return i, ok, nil
}

func TestDecodeManifestJSONStream(t *testing.T) {
	in := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p1"}}
{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p2"}}`
	objs, err := DecodeManifest([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2 || objs[1].GetName() != "p2" {
		t.Fatalf("got %v", objs)
	}
}

func TestDecodeManifestErrors(t *testing.T) {
	cases := []struct {
		name, in string
		doc      int
		field    string
		msg      string
	}{
		{"malformed yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [a\n", 1, "", "malformed YAML"},
		{"second doc missing kind", "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\napiVersion: v1\nmetadata: {name: b}\n", 2, "kind", "required"},
		{"missing name", "apiVersion: v1\nkind: Pod\nmetadata: {}\n", 1, "metadata.name", "required"},
		{"no metadata", "apiVersion: v1\nkind: Pod\n", 1, "metadata.name", "required"},
		{"name not string", "apiVersion: v1\nkind: Pod\nmetadata: {name: [x]}\n", 1, "metadata.name", "expected a string"},
		{"scalar document", "just a string\n", 1, "", "expected an object"},
		{"list document", "- a\n- b\n", 1, "", "got a list"},
		{"bad json", `{"apiVersion": "v1", `, 1, "", "malformed JSON"},
		{"bad list item", "apiVersion: v1\nkind: List\nitems:\n- 3\n", 1, "", "list item 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeManifest([]byte(c.in))
			var me *Error
			if !errors.As(err, &me) {
				t.Fatalf("error %v is not a *manifest.Error", err)
			}
			if me.Document != c.doc || me.Field != c.field {
				t.Errorf("document %d field %q, want %d %q (%v)", me.Document, me.Field, c.doc, c.field, err)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %q does not mention %q", err, c.msg)
			}
		})
	}
}

func TestDecodeManifestLineNumbers(t *testing.T) {
	in := "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Pod\nmetadata: {}\n"
	_, err := DecodeManifest([]byte(in))
	var me *Error
	if !errors.As(err, &me) || me.Line != 5 {
		t.Fatalf("want document starting at line 5, got %v", err)
	}
}

func TestDecodeManifestTooLarge(t *testing.T) {
	_, err := DecodeManifest(make([]byte, MaxManifestBytes+1))
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
}

func TestDecodeManifestAliasBomb(t *testing.T) {
	in := `a: &a ["x","x","x","x","x","x","x","x","x"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
`
	if _, err := DecodeManifest([]byte(in)); err == nil {
		t.Fatal("alias expansion bomb decoded without error")
	}
}
