package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// RemovableNetns is a named network namespace that the test may delete
// itself, e.g. to play a container whose namespace is already gone. Unlike
// NewNetns it keeps no handle open, so Remove really destroys the
// namespace (and the veth ends inside it).
type RemovableNetns struct {
	Name string
}

// NewRemovableNetns creates weir<suffix>-<random> with its loopback up. The
// namespace is deleted when the test ends unless the test removed it.
func NewRemovableNetns(t testing.TB, suffix string) *RemovableNetns {
	t.Helper()
	RequirePrivileged(t)
	n := &RemovableNetns{Name: UniqueName("weir" + suffix + "-")}
	if out, err := exec.Command("ip", "netns", "add", n.Name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", n.Name, err, out)
	}
	t.Cleanup(func() {
		if err := n.Remove(); err != nil {
			t.Errorf("%v", err)
		}
	})
	if out, err := exec.Command("ip", "-n", n.Name, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("set lo up in %s: %v: %s", n.Name, err, out)
	}
	return n
}

// Path is the namespace's bind mount, as runtimes pass it in CNI_NETNS.
func (n *RemovableNetns) Path() string { return filepath.Join("/run/netns", n.Name) }

// Remove deletes the namespace; removing it twice is not an error.
func (n *RemovableNetns) Remove() error {
	if _, err := os.Stat(n.Path()); os.IsNotExist(err) {
		return nil
	}
	if out, err := exec.Command("ip", "netns", "del", n.Name).CombinedOutput(); err != nil {
		return fmt.Errorf("ip netns del %s: %v: %s", n.Name, err, out)
	}
	return nil
}
