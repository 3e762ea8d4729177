package client_test

import (
	"strings"
	"testing"

	"github.com/weirnet/weir/vocab/manifest"
)

// TestE2EDiscoveryResolvesEveryServedKind checks that every kind the API
// serves resolves, through the server's own discovery documents, by
// plural, singular, short names, kind and group-qualified plural, and by
// manifest apiVersion/kind.
func TestE2EDiscoveryResolvesEveryServedKind(t *testing.T) {
	c := newCluster(t).client
	ctx := ctxT(t)
	kinds := manifest.Kinds()
	if len(kinds) < 13 {
		t.Fatalf("manifest.Kinds() = %d kinds, want the 13 weir serves", len(kinds))
	}
	for _, k := range kinds {
		names := append([]string{k.Plural, k.Singular, k.Kind, strings.ToUpper(k.Plural), k.Resource()}, k.ShortNames...)
		for _, n := range names {
			r, err := c.ResolveResource(ctx, n)
			if err != nil {
				t.Errorf("ResolveResource(%q): %v", n, err)
				continue
			}
			if r.Group != k.Group || r.Version != k.Version || r.Name != k.Plural || r.Kind != k.Kind || r.Namespaced != k.Namespaced {
				t.Errorf("ResolveResource(%q) = %+v, want %+v", n, r, k)
			}
		}
		r, err := c.ResourceForKind(ctx, k.APIVersion(), k.Kind)
		if err != nil || r.Name != k.Plural {
			t.Errorf("ResourceForKind(%s, %s) = %+v, %v", k.APIVersion(), k.Kind, r, err)
		}
	}
	for _, n := range []string{"po", "svc", "deploy", "ns", "no", "ep", "cm", "rs", "sa", "ev", "endpointslice", "endpointslices", "jobs"} {
		if _, err := c.ResolveResource(ctx, n); err != nil {
			t.Errorf("short name %q: %v", n, err)
		}
	}
	if _, err := c.ResolveResource(ctx, "gizmos"); err == nil || !strings.Contains(err.Error(), "deployments.apps") {
		t.Errorf("unknown type: err = %v, want the known types listed", err)
	}
	if _, err := c.ResourceForKind(ctx, "extensions/v1beta1", "Deployment"); err == nil || !strings.Contains(err.Error(), "apps/v1") {
		t.Errorf("old apiVersion: err = %v, want a hint at apps/v1", err)
	}
	if _, err := c.ResourceForKind(ctx, "v1", "Gizmo"); err == nil || !strings.Contains(err.Error(), "Gizmo") {
		t.Errorf("unknown kind: err = %v", err)
	}
}
