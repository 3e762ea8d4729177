package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// TestCLIDeleteCascade: --cascade reaches the API as the propagation
// policy. No garbage collector runs here, so foreground and orphan leave
// each object being deleted with the matching finalizer, and background
// (the default, also --cascade alone and --cascade=true) removes it.
func TestCLIDeleteCascade(t *testing.T) {
	e := newCLIEnv(t)
	var manifest strings.Builder
	names := []string{"fg", "orphan", "old-orphan", "bg", "bare", "default"}
	for _, n := range names {
		manifest.WriteString("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + n + "}\n")
	}
	e.mustRun(t, applyCmd, manifest.String(), "-f", "-")
	cases := []struct {
		name, flag, finalizer string
	}{
		{"fg", "--cascade=foreground", "foregroundDeletion"},
		{"orphan", "--cascade=orphan", "orphan"},
		{"old-orphan", "--cascade=false", "orphan"},
		{"bg", "--cascade=background", ""},
		{"bare", "--cascade", ""},
		{"default", "", ""},
	}
	for _, c := range cases {
		args := []string{"cm", c.name}
		if c.flag != "" {
			args = append(args, c.flag)
		}
		out := e.mustRun(t, deleteCmd, "", args...)
		wantLines(t, "delete "+c.flag, out, `configmap "`+c.name+`" deleted`)
	}
	for _, c := range cases {
		out, _, err := e.run(t, getCmd, "", "cm", c.name, "-o", "json")
		if c.finalizer == "" {
			if !apierrors.IsNotFound(err) {
				t.Errorf("%s: get after delete: %v, want NotFound", c.name, err)
			}
			continue
		}
		var obj struct {
			Metadata struct {
				DeletionTimestamp string   `json:"deletionTimestamp"`
				Finalizers        []string `json:"finalizers"`
			} `json:"metadata"`
		}
		if err != nil || json.Unmarshal([]byte(out), &obj) != nil {
			t.Fatalf("%s: get: %v\n%s", c.name, err, out)
		}
		if obj.Metadata.DeletionTimestamp == "" || !slices.Contains(obj.Metadata.Finalizers, c.finalizer) {
			t.Errorf("%s: deletionTimestamp %q finalizers %v; want set and %s", c.name, obj.Metadata.DeletionTimestamp, obj.Metadata.Finalizers, c.finalizer)
		}
	}
	if _, _, err := e.run(t, deleteCmd, "", "cm", "fg", "--cascade=sideways"); err == nil || !strings.Contains(err.Error(), "background, foreground or orphan") {
		t.Errorf("--cascade=sideways: %v, want an error naming the valid values", err)
	}
}
