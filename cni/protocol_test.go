package cni_test

import (
	"encoding/json"
	"net/netip"
	"os/exec"
	"strings"
	"testing"

	"github.com/weirnet/weir/cni"
	"github.com/weirnet/weir/tests/testutil"
)

func TestVersion(t *testing.T) {
	bin := pluginBinary(t)
	for _, v := range []string{"1.0.0", "1.1.0"} {
		cmd := exec.Command(bin)
		cmd.Env = call{cmd: "VERSION"}.environ(bin)
		cmd.Stdin = strings.NewReader(`{"cniVersion":"` + v + `"}`)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("VERSION %s: %v", v, err)
		}
		var got struct {
			CNIVersion        string   `json:"cniVersion"`
			SupportedVersions []string `json:"supportedVersions"`
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("VERSION %s output %q: %v", v, out, err)
		}
		if got.CNIVersion != v || strings.Join(got.SupportedVersions, ",") != "1.0.0,1.1.0" {
			t.Errorf("VERSION %s: %s, want cniVersion %s and supportedVersions [1.0.0 1.1.0]", v, out, v)
		}
	}
}

// TestLifecycle drives ADD, CHECK, DEL, DEL under both spec versions, and
// STATUS and GC (1.1.0 verbs: code 1 under 1.0.0).
func TestLifecycle(t *testing.T) {
	for _, v := range []string{"1.0.0", "1.1.0"} {
		t.Run(v, func(t *testing.T) {
			n := newNode(t)
			pod := testutil.NewNetns(t, "p")
			conf := n.conf(v, map[string]any{"mtu": 1400})
			c := call{cmd: "ADD", id: "ctr-" + v, netns: "/run/netns/" + pod.Name, ifname: "eth0", stdin: conf}
			add := n.run(c).ok(t, "ADD")
			if res := add.result(t); res.CNIVersion != v || len(res.IPs) != 1 {
				t.Errorf("result %s: want cniVersion %s and one IP", add.stdout, v)
			}
			if hasMTU := strings.Contains(string(add.stdout), `"mtu"`); hasMTU != (v == "1.1.0") {
				t.Errorf("result %s: interface mtu is a 1.1.0 field, present=%v", add.stdout, hasMTU)
			}

			c.cmd, c.stdin = "CHECK", withPrev(t, conf, add.stdout)
			n.run(c).ok(t, "CHECK after ADD")

			c.cmd, c.stdin = "DEL", conf
			n.run(c).ok(t, "DEL")
			n.run(c).ok(t, "second DEL")
			if l := links(t, n.host.Name); contains(l, cni.HostVethName(c.id, "eth0")) {
				t.Errorf("host veth survives DEL: %v", l)
			}
			if a := n.allocations(); len(a) != 0 {
				t.Errorf("allocations after DEL: %v", a)
			}
			c.cmd, c.stdin = "CHECK", withPrev(t, conf, add.stdout)
			n.run(c).code(t, "CHECK after DEL", 999, "IPAM")

			for _, verb := range []string{"STATUS", "GC"} {
				o := n.run(call{cmd: verb, stdin: conf})
				if v == "1.0.0" {
					o.code(t, verb+" under 1.0.0", 1)
				} else {
					o.ok(t, verb)
				}
			}
		})
	}
}

func TestAddResultShape(t *testing.T) {
	n := newNode(t)
	pod := testutil.NewNetns(t, "p")
	netns := "/run/netns/" + pod.Name
	res := n.run(call{cmd: "ADD", id: "shape", netns: netns, ifname: "eth0", stdin: n.conf("1.1.0", nil)}).ok(t, "ADD").result(t)
	if len(res.Interfaces) != 2 || len(res.IPs) != 1 || len(res.Routes) != 1 {
		t.Fatalf("result %+v: want 2 interfaces, 1 IP, 1 route", res)
	}
	host, cont := res.Interfaces[0], res.Interfaces[1]
	if host.Name != cni.HostVethName("shape", "eth0") || host.Sandbox != "" || host.Mac == "" {
		t.Errorf("host interface %+v: want %s, no sandbox, a MAC", host, cni.HostVethName("shape", "eth0"))
	}
	if cont.Name != "eth0" || cont.Sandbox != netns || cont.Mac == "" {
		t.Errorf("container interface %+v: want eth0 in %s with a MAC", cont, netns)
	}
	ip := res.IPs[0]
	if ip.Interface == nil || *ip.Interface != 1 || ip.Address.String() != "10.244.1.2/32" || ip.Gateway.String() != "10.244.1.1" {
		t.Errorf("IP %+v: want 10.244.1.2/32 gw 10.244.1.1 on interface 1", ip)
	}
	if r := res.Routes[0]; r.Dst.String() != "0.0.0.0/0" || r.GW.String() != "10.244.1.1" {
		t.Errorf("route %+v: want default via 10.244.1.1", r)
	}
	if !contains(links(t, n.host.Name), host.Name) || !contains(links(t, pod.Name), "eth0") {
		t.Errorf("links missing: host %v, pod %v", links(t, n.host.Name), links(t, pod.Name))
	}
	routes := pod.Run(t, "ip", "route")
	if !strings.Contains(routes, "default via 10.244.1.1 dev eth0") || !strings.Contains(routes, "10.244.1.1 dev eth0 scope link") {
		t.Errorf("pod routes:\n%s", routes)
	}
	hostRoutes := n.host.Run(t, "ip", "route")
	if !strings.Contains(hostRoutes, "10.244.1.2 dev "+host.Name+" scope link src 10.244.1.1") {
		t.Errorf("host routes:\n%s", hostRoutes)
	}
	if a := n.allocations(); len(a) != 1 || a[0].Addr != netip.MustParseAddr("10.244.1.2") {
		t.Errorf("allocations %v", a)
	}
	echo(t, n.host.Name, pod.Name, "10.244.1.1:7001")
}
