package localcluster

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// ipCmd runs `ip args...` (in netns when set) and wraps its output into
// the error.
func ipCmd(netns string, args ...string) error {
	if netns != "" {
		args = append([]string{"-n", netns}, args...)
	}
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func netnsExists(name string) bool {
	_, err := os.Stat("/run/netns/" + name)
	return err == nil
}

// setupUnderlay creates the underlay netns with bridge br0 holding the
// control members' addresses.
func setupUnderlay(s state) error {
	steps := [][]string{
		{"", "netns", "add", s.Underlay},
		{s.Underlay, "link", "set", "lo", "up"},
		{s.Underlay, "link", "add", "br0", "type", "bridge"},
	}
	for _, m := range s.Members {
		steps = append(steps, []string{s.Underlay, "addr", "add", m.IP + "/24", "dev", "br0"})
	}
	steps = append(steps, []string{s.Underlay, "link", "set", "br0", "up"})
	return runSteps(steps)
}

// setupNode creates node i's netns with eth0, a veth whose peer n<i> is
// on the underlay bridge.
func setupNode(s state, i int) error {
	n := s.Nodes[i]
	peer := fmt.Sprintf("n%d", i+1)
	steps := [][]string{
		{"", "netns", "add", n.Name},
		{n.Name, "link", "set", "lo", "up"},
		{s.Underlay, "link", "add", peer, "type", "veth", "peer", "name", "eth0", "netns", n.Name},
		{s.Underlay, "link", "set", peer, "master", "br0", "up"},
		{n.Name, "addr", "add", n.IP + "/24", "dev", "eth0"},
		{n.Name, "link", "set", "eth0", "up"},
	}
	if err := runSteps(steps); err != nil {
		return err
	}
	if err := os.MkdirAll(n.Cgroup, 0o755); err != nil {
		return fmt.Errorf("create cgroup %s: %w", n.Cgroup, err)
	}
	return os.MkdirAll(n.Dir, 0o755)
}

func runSteps(steps [][]string) error {
	for _, st := range steps {
		if err := ipCmd(st[0], st[1:]...); err != nil {
			return err
		}
	}
	return nil
}

// deleteNetns removes a netns (and with it its links) if it exists.
func deleteNetns(name string) error {
	if !netnsExists(name) {
		return nil
	}
	return ipCmd("", "netns", "delete", name)
}
