package main

import (
	"regexp"
	"strings"
	"testing"
)

// TestCLIStatus: against a one-member cluster without nodes, the member
// leads (its API address is not recorded: unknown), the missing nodes and DNS
// endpoints are problems, and the command fails saying so.
func TestCLIStatus(t *testing.T) {
	e := newCLIEnv(t)
	out, _, err := e.run(t, statusCmd, "")
	if err == nil || !strings.Contains(err.Error(), "problem") {
		t.Errorf("status without nodes: err %v, want the problems counted", err)
	}
	for _, re := range []string{`ok  leader m1, 1 voters of 1 members`, `\?\?  m1 +<none> +leader +no API address recorded`,
		`!!  0 of 0 nodes Ready`, `ok  0 pods, 0 ready\n`, `ok  \d+ services`, `!!  kube-system/kube-dns-nodes does not exist`} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("status lacks %q:\n%s", re, out)
		}
	}
	if _, _, err := e.run(t, statusCmd, "", "extra"); err == nil {
		t.Error("status with an argument: no error")
	}
}
