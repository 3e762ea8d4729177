package main

import (
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

func TestCLIDeleteAndDescribeBySelector(t *testing.T) {
	e := newCLIEnv(t)
	e.mustRun(t, applyCmd, `apiVersion: v1
kind: ConfigMap
metadata: {name: a, labels: {tier: web}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: b, labels: {tier: web}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c, labels: {tier: db}}
`, "-f", "-")
	out := e.mustRun(t, describeCmd, "", "cm", "-l", "tier=web")
	if strings.Count(out, "Name:") != 2 || !strings.Contains(out, "tier=web") || strings.Contains(out, "tier=db") {
		t.Errorf("describe -l tier=web:\n%s", out)
	}
	out = e.mustRun(t, deleteCmd, "", "cm", "-l", "tier=web")
	wantLines(t, "delete -l", out, `configmap "a" deleted`, `configmap "b" deleted`)
	out = e.mustRun(t, getCmd, "", "cm", "-o", "name")
	wantLines(t, "left", out, "configmap/c")
	out = e.mustRun(t, deleteCmd, "", "configmap/c")
	wantLines(t, "delete TYPE/NAME", out, `configmap "c" deleted`)
	for _, args := range [][]string{{}, {"cm"}, {"cm", "x", "-l", "a=b"}, {"-f", "x.yaml", "cm", "x"}} {
		if _, _, err := e.run(t, deleteCmd, "", args...); err == nil {
			t.Errorf("delete %v: no error", args)
		}
	}
	if _, _, err := e.run(t, describeCmd, "", "cm", "missing"); !apierrors.IsNotFound(err) {
		t.Errorf("describe missing: %v", err)
	}
}
