package manifest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseTyped(t *testing.T) {
	data := `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: {name: a}
  spec: {clusterIP: 10.96.0.5, ports: [{port: 80}]}
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata: {name: a-1, namespace: ns1}
  addressType: IPv4
  endpoints: [{addresses: [10.0.0.1]}]
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: kube-system}
spec: {containers: [{name: c, image: busybox}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
`
	var out Typed
	if err := ParseTyped([]byte(data), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Services) != 1 || len(out.EndpointSlices) != 1 || len(out.Pods) != 1 || out.Skipped != 1 {
		t.Fatalf("got %d services, %d slices, %d pods, %d skipped; want 1 1 1 1",
			len(out.Services), len(out.EndpointSlices), len(out.Pods), out.Skipped)
	}
	if out.Services[0].Namespace != "default" || out.EndpointSlices[0].Namespace != "ns1" || out.Pods[0].Namespace != "kube-system" {
		t.Errorf("namespaces: %q %q %q", out.Services[0].Namespace, out.EndpointSlices[0].Namespace, out.Pods[0].Namespace)
	}
}

func TestParseTypedErrors(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"no kind", "metadata: {name: x}\n", "needs apiVersion and kind"},
		{"unknown field", "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {portz: []}\n", "unknown field"},
		{"no name", "apiVersion: v1\nkind: Pod\nmetadata: {}\n", "metadata.name is missing"},
		{"bad yaml", "apiVersion: v1\nkind: [\n", "document 1"},
		{"nested list", "apiVersion: v1\nkind: List\nitems: [{apiVersion: v1, kind: List, items: []}]\n", ""},
		{"second document", "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\nkind: Pod\n", "document 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out Typed
			err := ParseTyped([]byte(tc.yaml), &out)
			if tc.want == "" {
				if err != nil || out.Skipped != 1 {
					t.Errorf("err %v, skipped %d; want a nested List skipped", err, out.Skipped)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseTyped: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestLoadTypedDirectory(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("b.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: b}\n")
	write("a.json", `{"apiVersion":"v1","kind":"Service","metadata":{"name":"a"}}`)
	write("notes.txt", "not a manifest")
	fp1, err := Fingerprint(dir)
	if err != nil {
		t.Fatal(err)
	}
	out, err := LoadTyped(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Services) != 2 || out.Services[0].Name != "a" || out.Services[1].Name != "b" {
		t.Fatalf("services %+v, want a then b", out.Services)
	}
	write("c.yml", "apiVersion: v1\nkind: Service\nmetadata: {name: c}\nspec: {bogus: 1}\n")
	if _, err := LoadTyped(dir); err == nil || !strings.Contains(err.Error(), "c.yml") {
		t.Errorf("LoadTyped with a bad file: %v, want an error naming c.yml", err)
	}
	if fp2, _ := Fingerprint(dir); fp2 == fp1 {
		t.Error("Fingerprint did not change when a file was added")
	}
	if _, err := LoadTyped(filepath.Join(dir, "missing")); err == nil {
		t.Error("LoadTyped of a missing path: no error")
	}
}

func FuzzParseTyped(f *testing.F) {
	f.Add([]byte("apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\n---\n"))
	f.Add([]byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}}`))
	f.Add([]byte("apiVersion: v1\nkind: List\nitems: [{apiVersion: v1, kind: Pod, metadata: {name: q}}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var out Typed
		if err := ParseTyped(data, &out); err != nil {
			return
		}
		for _, p := range out.Pods {
			if p.Name == "" || p.Namespace == "" {
				t.Fatalf("object without name or namespace accepted: %+v", p.ObjectMeta)
			}
		}
	})
}
