package servicelatency

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/weirnet/weir/tests/testutil"
)

// topology is two node namespaces joined by an underlay veth, each with a
// bridge its pods hang off; the client pods (one per mode) and two backend
// pods sit on node 1, two more backend pods on node 2:
//
//	node1 br 10.244.1.1/24: clients 10.244.1.2-5, backends 10.244.1.10-11
//	node2 br 10.244.2.1/24: backends 10.244.2.10-11
//	node1 192.168.77.1/24 <-underlay-> node2 192.168.77.2/24
//
// Everything is created with the prefix weirsl- and removed by close, in
// reverse order, also after a failure half-way.
type topology struct {
	nodes   [2]string
	clients map[string]string // mode -> client pod netns
	local   []pod
	remote  []pod
	podNS   map[string]string // backend name -> netns
	cgWeir  string            // cgroup of the weir client (socket LB attached)
	cgOther string            // cgroup of the other clients (nothing attached)
	undo    []func() error
}

type pod struct {
	name string
	ip   netip.Addr
}

func ipCmd(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// inNS runs a command inside netns ns.
func inNS(ns string, args ...string) error {
	return ipCmd(append([]string{"netns", "exec", ns}, args...)...)
}

func (t *topology) addNetns(role string) (string, error) {
	name := testutil.UniqueName("weirsl-" + role + "-")
	if err := ipCmd("netns", "add", name); err != nil {
		return "", err
	}
	t.undo = append(t.undo, func() error { return ipCmd("netns", "del", name) })
	return name, ipCmd("-n", name, "link", "set", "lo", "up")
}

func (t *topology) addCgroup(role string) (string, error) {
	root, err := testutil.Cgroup2Root()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, testutil.UniqueName("weirsl-"+role+"-"))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", fmt.Errorf("create cgroup %s: %w", dir, err)
	}
	t.undo = append(t.undo, func() error { return testutil.RemoveCgroup(dir) })
	return dir, nil
}

// newTopology builds the namespaces; on error what was made is removed.
func newTopology(modes []string) (t *topology, err error) {
	t = &topology{clients: map[string]string{}, podNS: map[string]string{}}
	defer func() {
		if err != nil {
			t.close()
		}
	}()
	for i := range t.nodes {
		if t.nodes[i], err = t.addNetns(fmt.Sprintf("n%d", i+1)); err != nil {
			return t, err
		}
		n := t.nodes[i]
		for _, c := range [][]string{
			{"-n", n, "link", "add", "br0", "type", "bridge"},
			{"-n", n, "addr", "add", fmt.Sprintf("10.244.%d.1/24", i+1), "dev", "br0"},
			{"-n", n, "link", "set", "br0", "up"},
			{"netns", "exec", n, "sysctl", "-qw", "net.ipv4.ip_forward=1"},
		} {
			if err = ipCmd(c...); err != nil {
				return t, err
			}
		}
	}
	if err = t.underlay(); err != nil {
		return t, err
	}
	for i, m := range modes {
		if t.clients[m], err = t.addPod(0, "c"+m[:2], 2+i); err != nil {
			return t, err
		}
		ns := t.clients[m]
		for _, s := range []string{"net.ipv4.tcp_tw_reuse=1", "net.ipv4.ip_local_port_range=10000 65000"} {
			if err = inNS(ns, "sysctl", "-qw", s); err != nil {
				return t, err
			}
		}
	}
	for node, list := range []*[]pod{&t.local, &t.remote} {
		for j := 0; j < 2; j++ {
			name := fmt.Sprintf("be-%s%d", []string{"local", "remote"}[node], j+1)
			ns, err := t.addPod(node, "b", 10+j)
			if err != nil {
				return t, err
			}
			*list = append(*list, pod{name: name, ip: netip.MustParseAddr(fmt.Sprintf("10.244.%d.%d", node+1, 10+j))})
			t.podNS[name] = ns
		}
	}
	if t.cgWeir, err = t.addCgroup("weir"); err != nil {
		return t, err
	}
	t.cgOther, err = t.addCgroup("other")
	return t, err
}

func (t *topology) underlay() error {
	n1, n2 := t.nodes[0], t.nodes[1]
	for _, c := range [][]string{
		{"-n", n1, "link", "add", "ul0", "type", "veth", "peer", "name", "ul0", "netns", n2},
		{"-n", n1, "addr", "add", "192.168.77.1/24", "dev", "ul0"},
		{"-n", n2, "addr", "add", "192.168.77.2/24", "dev", "ul0"},
		{"-n", n1, "link", "set", "ul0", "up"},
		{"-n", n2, "link", "set", "ul0", "up"},
		{"-n", n1, "route", "add", "10.244.2.0/24", "via", "192.168.77.2"},
		{"-n", n2, "route", "add", "10.244.1.0/24", "via", "192.168.77.1"},
	} {
		if err := ipCmd(c...); err != nil {
			return err
		}
	}
	return nil
}

// addPod makes a pod namespace with eth0 on node's bridge at 10.244.<node+1>.<host>.
func (t *topology) addPod(node int, role string, host int) (string, error) {
	ns, err := t.addNetns(role)
	if err != nil {
		return "", err
	}
	n := t.nodes[node]
	peer := fmt.Sprintf("p%d", host)
	for _, c := range [][]string{
		{"-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", peer, "netns", n},
		{"-n", ns, "addr", "add", fmt.Sprintf("10.244.%d.%d/24", node+1, host), "dev", "eth0"},
		{"-n", ns, "link", "set", "eth0", "up"},
		{"-n", ns, "route", "add", "default", "via", fmt.Sprintf("10.244.%d.1", node+1)},
		{"-n", n, "link", "set", peer, "master", "br0", "up"},
	} {
		if err := ipCmd(c...); err != nil {
			return "", err
		}
	}
	return ns, nil
}

// close removes everything, newest first, and reports what it could not.
func (t *topology) close() error {
	var errs []error
	for i := len(t.undo) - 1; i >= 0; i-- {
		errs = append(errs, t.undo[i]())
	}
	t.undo = nil
	return errors.Join(errs...)
}
