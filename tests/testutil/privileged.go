package testutil

import (
	"os"
	"testing"
)

// InCI reports whether the tests run under CI (CI=true or any non-empty
// value other than "false"/"0").
func InCI() bool {
	v := os.Getenv("CI")
	return v != "" && v != "false" && v != "0"
}

// RequirePrivileged skips t when the process is not root and CI is unset.
// Under CI a missing privilege is a failure, not a skip.
func RequirePrivileged(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if InCI() {
		t.Fatalf("test needs root (CAP_BPF, CAP_NET_ADMIN) and CI is set: run the suite as root")
	}
	t.Skip("needs root; run with sudo (skipped because CI is unset)")
}

// RequireBinary fails (under CI or as root) or skips (otherwise) when a
// command the test drives is not installed. `make deps` installs them all.
func RequireBinary(t testing.TB, name string, lookPath func(string) (string, error)) string {
	t.Helper()
	p, err := lookPath(name)
	if err == nil {
		return p
	}
	if InCI() || os.Geteuid() == 0 {
		t.Fatalf("%s not found: run `make deps` to install it", name)
	}
	t.Skipf("%s not installed (run `make deps`)", name)
	return ""
}
