package cni_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/containernetworking/cni/pkg/types"

	"github.com/weirnet/weir/cni"
	"github.com/weirnet/weir/tests/testutil"
)

// TestDelWithoutNetns: DEL releases the address and removes the host veth
// when the runtime passes no CNI_NETNS, and when the netns is already gone.
func TestDelWithoutNetns(t *testing.T) {
	n := newNode(t)
	conf := n.conf("1.1.0", nil)

	pod := testutil.NewNetns(t, "p")
	n.run(call{cmd: "ADD", id: "nonetns", netns: "/run/netns/" + pod.Name, ifname: "eth0", stdin: conf}).ok(t, "ADD")
	n.run(call{cmd: "DEL", id: "nonetns", ifname: "eth0", stdin: conf}).ok(t, "DEL without CNI_NETNS")
	if l := links(t, pod.Name); contains(l, "eth0") {
		t.Errorf("container side survives DEL: %v", l)
	}

	gone := testutil.NewRemovableNetns(t, "g")
	n.run(call{cmd: "ADD", id: "gone", netns: gone.Path(), ifname: "eth0", stdin: conf}).ok(t, "ADD")
	if err := gone.Remove(); err != nil {
		t.Fatal(err)
	}
	n.run(call{cmd: "DEL", id: "gone", netns: gone.Path(), ifname: "eth0", stdin: conf}).ok(t, "DEL after the netns is gone")
	n.run(call{cmd: "DEL", id: "gone", netns: gone.Path(), ifname: "eth0", stdin: conf}).ok(t, "second DEL")
	n.run(call{cmd: "DEL", id: "never-added", ifname: "eth0", stdin: conf}).ok(t, "DEL of an unknown attachment")

	if a := n.allocations(); len(a) != 0 {
		t.Fatalf("allocations after DELs: %v", a)
	}
	for _, l := range links(t, n.host.Name) {
		if strings.HasPrefix(l, "weir") {
			t.Errorf("host veth %s survives DEL", l)
		}
	}
}

// TestCheckDetectsDamage: CHECK passes after ADD and fails, naming what
// is wrong, once the pod's default route or the host veth's route is gone.
func TestCheckDetectsDamage(t *testing.T) {
	n := newNode(t)
	pod := testutil.NewNetns(t, "p")
	conf := n.conf("1.1.0", nil)
	c := call{cmd: "ADD", id: "damage", netns: "/run/netns/" + pod.Name, ifname: "eth0", stdin: conf}
	add := n.run(c).ok(t, "ADD")
	c.cmd, c.stdin = "CHECK", withPrev(t, conf, add.stdout)
	n.run(c).ok(t, "CHECK")

	pod.Run(t, "ip", "route", "del", "default")
	n.run(c).code(t, "CHECK without default route", types.ErrInternal, "default route via 10.244.1.1 missing")
	pod.Run(t, "ip", "route", "add", "default", "via", "10.244.1.1", "dev", "eth0")
	n.run(c).ok(t, "CHECK after repair")

	n.host.Run(t, "ip", "route", "del", "10.244.1.2/32")
	n.run(c).code(t, "CHECK without host route", types.ErrInternal, "host side", "route to 10.244.1.2/32 missing")

	c.stdin = conf
	n.run(c).code(t, "CHECK without prevResult", types.ErrInvalidNetworkConfig, "prevResult")
}

// TestGC releases every allocation not listed and removes its host veth.
func TestGC(t *testing.T) {
	n := newNode(t)
	conf := n.conf("1.1.0", nil)
	var results [3][]byte
	pods := make([]*testutil.Netns, 3)
	for i, id := range []string{"keep", "drop-1", "drop-2"} {
		pods[i] = testutil.NewNetns(t, "p")
		results[i] = n.run(call{cmd: "ADD", id: id, netns: "/run/netns/" + pods[i].Name, ifname: "eth0", stdin: conf}).ok(t, "ADD "+id).stdout
	}
	gc := gcConf(t, conf, types.GCAttachment{ContainerID: "keep", IfName: "eth0"}, types.GCAttachment{ContainerID: "other", IfName: "eth0"})
	n.run(call{cmd: "GC", stdin: gc}).ok(t, "GC")

	a := n.allocations()
	if len(a) != 1 || a[0].Key.ContainerID != "keep" {
		t.Fatalf("allocations after GC: %v, want only keep", a)
	}
	hostLinks := links(t, n.host.Name)
	for _, id := range []string{"drop-1", "drop-2"} {
		if contains(hostLinks, cni.HostVethName(id, "eth0")) {
			t.Errorf("GC left the host veth of %s", id)
		}
	}
	check := call{cmd: "CHECK", id: "keep", netns: "/run/netns/" + pods[0].Name, ifname: "eth0", stdin: withPrev(t, conf, results[0])}
	n.run(check).ok(t, "CHECK of the kept attachment after GC")
	n.run(call{cmd: "GC", stdin: gc}).ok(t, "second GC")
}

func gcConf(t *testing.T, conf []byte, valid ...types.GCAttachment) []byte {
	t.Helper()
	var c map[string]any
	if err := json.Unmarshal(conf, &c); err != nil {
		t.Fatal(err)
	}
	c["cni.dev/valid-attachments"] = valid
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestChainedPrevResult: weir-cni after another plugin appends its
// interfaces, address and route to prevResult, and CHECK finds them there.
func TestChainedPrevResult(t *testing.T) {
	n := newNode(t)
	pod := testutil.NewNetns(t, "p")
	netns := "/run/netns/" + pod.Name
	prev := []byte(`{"cniVersion":"1.1.0","interfaces":[{"name":"macvlan9","sandbox":"` + netns + `"}],` +
		`"ips":[{"address":"192.168.50.7/24","interface":0}],"dns":{"nameservers":["10.96.0.10"]}}`)
	conf := withPrev(t, n.conf("1.1.0", nil), prev)
	c := call{cmd: "ADD", id: "chained", netns: netns, ifname: "eth0", stdin: conf}
	add := n.run(c).ok(t, "chained ADD")
	res := add.result(t)
	if len(res.Interfaces) != 3 || res.Interfaces[0].Name != "macvlan9" || res.Interfaces[2].Name != "eth0" {
		t.Fatalf("interfaces %v: want macvlan9 kept first, then weir-cni's two", res.Interfaces)
	}
	if len(res.IPs) != 2 || *res.IPs[0].Interface != 0 || *res.IPs[1].Interface != 2 {
		t.Fatalf("ips %v: want the previous one kept and ours on interface 2", res.IPs)
	}
	if len(res.DNS.Nameservers) != 1 {
		t.Fatalf("dns %v: want the previous plugin's DNS passed through", res.DNS)
	}
	c.cmd, c.stdin = "CHECK", withPrev(t, n.conf("1.1.0", nil), add.stdout)
	n.run(c).ok(t, "CHECK of a chained result")
}
