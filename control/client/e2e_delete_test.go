package client_test

import (
	"context"
	"slices"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/weirnet/weir/control/client"
)

// TestDeleteWithPropagation: DeleteWith sends the propagation policy; with
// no garbage collector running, Foreground and Orphan leave the object
// being deleted with the matching finalizer, Background removes it.
func TestDeleteWithPropagation(t *testing.T) {
	c := newCluster(t).client
	ctx := context.Background()
	gvr := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	cases := []struct {
		name   string
		policy metav1.DeletionPropagation
		want   string // finalizer; "" means deleted
	}{
		{"fg", metav1.DeletePropagationForeground, "foregroundDeletion"},
		{"orphan", metav1.DeletePropagationOrphan, "orphan"},
		{"bg", metav1.DeletePropagationBackground, ""},
		{"default", "", ""},
	}
	for _, tc := range cases {
		obj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": tc.name}}}
		if _, err := c.Create(ctx, gvr, "default", obj); err != nil {
			t.Fatal(err)
		}
		if err := c.DeleteWith(ctx, gvr, "default", tc.name, client.DeleteOptions{PropagationPolicy: tc.policy}); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got, err := c.Get(ctx, gvr, "default", tc.name)
		if tc.want == "" {
			if !apierrors.IsNotFound(err) {
				t.Errorf("%s: Get after delete: %v, want NotFound", tc.name, err)
			}
			continue
		}
		if err != nil || got.GetDeletionTimestamp() == nil || !slices.Contains(got.GetFinalizers(), tc.want) {
			t.Errorf("%s: Get: %v; want it being deleted with finalizer %s", tc.name, err, tc.want)
		}
	}
	bad := client.DeleteOptions{PropagationPolicy: "Sideways"}
	if err := c.DeleteWith(ctx, gvr, "default", "fg", bad); !apierrors.IsBadRequest(err) {
		t.Errorf("invalid policy: %v, want BadRequest", err)
	}
}

func TestParseCascade(t *testing.T) {
	for in, want := range map[string]metav1.DeletionPropagation{
		"background": "Background", "true": "Background", "foreground": "Foreground", "orphan": "Orphan", "false": "Orphan",
	} {
		if got, err := client.ParseCascade(in); err != nil || got != want {
			t.Errorf("ParseCascade(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := client.ParseCascade("sideways"); err == nil {
		t.Error("ParseCascade(sideways): no error")
	}
}
