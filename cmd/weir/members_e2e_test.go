package main

import (
	"regexp"
	"testing"
)

func TestCLIMembers(t *testing.T) {
	e := newCLIEnv(t)
	out := e.mustRun(t, membersCmd, "")
	if !regexp.MustCompile(`^NAME +PEER +API +VOTER +LEADER\nm1 +127\.0\.0\.1:\d+ +\S+ +true +true\n$`).MatchString(out) {
		t.Errorf("members:\n%s", out)
	}
	if _, _, err := e.run(t, membersCmd, "", "remove"); err == nil {
		t.Error("members remove without a name: no error")
	}
	if _, _, err := e.run(t, membersCmd, "", "remove", "ghost"); err == nil {
		t.Error("removing an unknown member: no error")
	}
}
