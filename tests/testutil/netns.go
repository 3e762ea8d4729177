package testutil

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/vishvananda/netns"
)

// Netns is a named network namespace created for one test.
type Netns struct {
	Name   string
	Handle netns.NsHandle
}

// UniqueName returns prefix followed by a short random suffix, for names of
// namespaces, links and cgroups that must not collide between parallel runs.
// Interface names are limited to 15 bytes, so keep prefix short.
func UniqueName(prefix string) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// NewNetns creates a network namespace named weir<suffix>-<random> with its
// loopback up, and deletes it when the test ends.
func NewNetns(t testing.TB, suffix string) *Netns {
	t.Helper()
	RequirePrivileged(t)
	name := UniqueName("weir" + suffix + "-")
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", name, err, out)
		}
	})
	h, err := netns.GetFromName(name)
	if err != nil {
		t.Fatalf("open netns %s: %v", name, err)
	}
	t.Cleanup(func() { h.Close() })
	n := &Netns{Name: name, Handle: h}
	n.Run(t, "ip", "link", "set", "lo", "up")
	return n
}

// Run runs a command inside the namespace (ip netns exec) and fails the test
// when it fails. It returns the combined output.
func (n *Netns) Run(t testing.TB, args ...string) string {
	t.Helper()
	out, err := n.Exec(args...)
	if err != nil {
		t.Fatalf("in netns %s: %s: %v: %s", n.Name, strings.Join(args, " "), err, out)
	}
	return out
}

// Exec runs a command inside the namespace and returns its combined output.
func (n *Netns) Exec(args ...string) (string, error) {
	full := append([]string{"netns", "exec", n.Name}, args...)
	out, err := exec.Command("ip", full...).CombinedOutput()
	return string(out), err
}

// Do runs fn on a locked OS thread switched into the namespace, and switches
// the thread back afterwards.
func (n *Netns) Do(fn func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		return fmt.Errorf("get current netns: %w", err)
	}
	defer orig.Close()
	if err := netns.Set(n.Handle); err != nil {
		return fmt.Errorf("enter netns %s: %w", n.Name, err)
	}
	defer func() { _ = netns.Set(orig) }()
	return fn()
}
