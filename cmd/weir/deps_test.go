package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestProductLinksNoBenchOrTestCode: bin/weir, the binary users run on
// their nodes, links no benchmark harness (cmd/weir-bench, tests/bench,
// tests/benchreport), no test helper (tests/...) and no etcd client (the
// store benchmark's comparison; bbolt, weir's own storage, is fine).
func TestProductLinksNoBenchOrTestCode(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/weirnet/weir/cmd/weir").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		if why := forbiddenInProduct(p); why != "" {
			t.Errorf("cmd/weir depends on %s (%s)", p, why)
		}
	}
}

// forbiddenInProduct says why package p may not be linked into bin/weir,
// or "" when it may.
func forbiddenInProduct(p string) string {
	if strings.HasPrefix(p, "go.etcd.io/etcd/") {
		return "an etcd package: only the store benchmark talks to etcd"
	}
	rest, ok := strings.CutPrefix(p, "github.com/weirnet/weir/")
	if !ok {
		return ""
	}
	if rest == "tests" || strings.HasPrefix(rest, "tests/") {
		return "test code"
	}
	for _, elem := range strings.Split(rest, "/") {
		if strings.Contains(elem, "bench") {
			return "benchmark code: it belongs to cmd/weir-bench"
		}
	}
	return ""
}

func TestForbiddenInProduct(t *testing.T) {
	for p, bad := range map[string]bool{
		"go.etcd.io/etcd/client/v3":                      true,
		"go.etcd.io/bbolt":                               false,
		"github.com/weirnet/weir/tests/testutil":         true,
		"github.com/weirnet/weir/tests/bench/store":      true,
		"github.com/weirnet/weir/dns/dnsbench":           true,
		"github.com/weirnet/weir/cmd/weir-bench":         true,
		"github.com/weirnet/weir/control/scheduler":      false,
		"github.com/weirnet/weir/node/runtime/testimage": false,
		"k8s.io/client-go/testing":                       false,
	} {
		if got := forbiddenInProduct(p) != ""; got != bad {
			t.Errorf("forbiddenInProduct(%s) = %v, want %v", p, got, bad)
		}
	}
}
