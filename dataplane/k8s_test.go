package dataplane

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// renderDesired prints Desired as stable text for golden comparison.
func renderDesired(d Desired) string {
	var b strings.Builder
	for _, s := range d.Services {
		fmt.Fprintf(&b, "%s port=%d nodePort=%d clusterIPs=%v externalIPs=%v affinity=%s\n",
			s.String(), s.Port, s.NodePort, s.ClusterIPs, s.ExternalIPs, s.AffinityTimeout)
		for _, be := range s.Backends {
			fmt.Fprintf(&b, "  backend %s:%d terminating=%v\n", be.Addr, be.Port, be.Terminating)
		}
	}
	return b.String()
}

func TestDesiredFromObjects(t *testing.T) {
	svcs, eps, err := ReadObjects(filepath.Join("testdata", "objects.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := DesiredFromObjects(svcs, eps)
	if err != nil {
		t.Fatalf("DesiredFromObjects: %v", err)
	}
	got := renderDesired(d)
	path := filepath.Join("testdata", "desired.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("Desired differs from %s:\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestObjectErrors(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"no kind", "metadata: {name: x}\n", "needs apiVersion and kind"},
		{"bad field", "apiVersion: v1\nkind: Service\nspec: {portz: []}\n", "unknown field"},
		{"bad yaml", "apiVersion: v1\nkind: [\n", "document 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ParseObjects([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseObjects: %v, want an error containing %q", err, tc.want)
			}
		})
	}
	svcs, eps, err := ParseObjects([]byte("apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: n}\nspec: {clusterIP: 10.0.0.300, ports: [{port: 80}]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DesiredFromObjects(svcs, eps); err == nil || !strings.Contains(err.Error(), "10.0.0.300") {
		t.Errorf("bad clusterIP: %v, want an error naming it", err)
	}
}

func FuzzParseObjects(f *testing.F) {
	seed, err := os.ReadFile(filepath.Join("testdata", "objects.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte("apiVersion: v1\nkind: List\nitems: [{apiVersion: v1, kind: List, items: []}]\n"))
	f.Add([]byte(`{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","addressType":"IPv4","endpoints":[{"addresses":["1.2.3.4"]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		svcs, eps, err := ParseObjects(data)
		if err != nil {
			return
		}
		d, _ := DesiredFromObjects(svcs, eps)
		want, failed, _ := buildWant(&d, addrs("192.168.0.1", "fd00::1"))
		for _, g := range want {
			if failed[g.name] || len(g.fronts) == 0 {
				t.Fatalf("group %s both wanted and failed, or without frontends", g.name)
			}
		}
	})
}
