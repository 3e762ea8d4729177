package main

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/weirnet/weir/control/client"
)

// TestCLIApplyConflicts: weir apply is a server-side apply as field
// manager "weir"; a field another manager set since is a conflict that
// says what to do, and --force-conflicts takes it over.
func TestCLIApplyConflicts(t *testing.T) {
	e := newCLIEnv(t)
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared}\ndata: {k: mine}\n"
	wantLines(t, "apply", e.mustRun(t, applyCmd, cm, "-f", "-"), "configmap/shared created")

	c, err := client.New(client.Config{Server: e.url, Token: cliToken})
	if err != nil {
		t.Fatal(err)
	}
	gvr := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	if _, err := c.Dynamic().Resource(gvr).Namespace("default").Patch(context.Background(), "shared", types.MergePatchType,
		[]byte(`{"data":{"k":"theirs"}}`), metav1.PatchOptions{FieldManager: "other"}); err != nil {
		t.Fatal(err)
	}

	_, errOut, err := e.run(t, applyCmd, cm, "-f", "-")
	if err == nil || !strings.Contains(errOut, "Conflict") || !strings.Contains(errOut, `"other"`) || !strings.Contains(errOut, "--force-conflicts") {
		t.Fatalf("conflicting apply: %v\n%s", err, errOut)
	}
	wantLines(t, "forced apply", e.mustRun(t, applyCmd, cm, "-f", "-", "--force-conflicts"), "configmap/shared configured")
	out := e.mustRun(t, getCmd, "", "cm", "shared", "-o", "yaml")
	if !strings.Contains(out, "k: mine") {
		t.Errorf("after --force-conflicts:\n%s", out)
	}
	wantLines(t, "re-apply", e.mustRun(t, applyCmd, cm, "-f", "-"), "configmap/shared unchanged")
}
