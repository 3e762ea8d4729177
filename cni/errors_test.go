package cni_test

import (
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/weirnet/weir/cni/ipam"
	"github.com/weirnet/weir/tests/testutil"
)

// TestErrorCodes checks every CNI error code weir-cni emits, each with a
// message that names the field or variable at fault.
func TestErrorCodes(t *testing.T) {
	n := newNode(t)
	pod := testutil.NewNetns(t, "p")
	netns := "/run/netns/" + pod.Name
	add := func(stdin []byte, env map[string]string) outcome {
		return n.run(call{cmd: "ADD", id: "errs", netns: netns, ifname: "eth0", stdin: stdin, env: env})
	}
	tests := []struct {
		name    string
		stdin   []byte
		env     map[string]string
		code    uint
		mention []string
	}{
		{"old cniVersion", n.conf("0.4.0", nil), nil, 1, []string{"incompatible CNI versions"}},
		{"future cniVersion", n.conf("2.0.0", nil), nil, 1, nil},
		{"misspelt field", n.conf("1.1.0", map[string]any{"podCidr": "10.244.1.0/24"}), nil, 2, []string{`"podCidr"`, "10.244.1.0/24"}},
		{"ipam section", n.conf("1.1.0", map[string]any{"ipam": map[string]any{"type": "host-local"}}), nil, 2, []string{`"ipam"`, "host-local"}},
		{"no container id", n.conf("1.1.0", nil), map[string]string{"CNI_CONTAINERID": ""}, 4, []string{"CNI_CONTAINERID"}},
		{"bad ifname", n.conf("1.1.0", nil), map[string]string{"CNI_IFNAME": "eth0/x"}, 4, []string{"interface name"}},
		{"netns not a namespace", n.conf("1.1.0", nil), map[string]string{"CNI_NETNS": n.dataDir}, 4, []string{"CNI_NETNS"}},
		{"netns missing", n.conf("1.1.0", nil), map[string]string{"CNI_NETNS": "/run/netns/weir-absent"}, 4, []string{"CNI_NETNS"}},
		{"no command", n.conf("1.1.0", nil), map[string]string{"CNI_COMMAND": "FROB"}, 4, []string{"CNI_COMMAND"}},
		{"not json", []byte("{podCIDR: 10.244.1.0/24"), nil, 6, nil},
		{"mtu is a string", n.conf("1.1.0", map[string]any{"mtu": "big"}), nil, 6, []string{`"mtu"`}},
		{"podCIDR missing", n.conf("1.1.0", map[string]any{"podCIDR": nil}), nil, 7, []string{`"podCIDR"`}},
		{"podCIDR too small", n.conf("1.1.0", map[string]any{"podCIDR": "10.244.1.0/31"}), nil, 7, []string{`"podCIDR"`, "too small"}},
		{"mtu too small", n.conf("1.1.0", map[string]any{"mtu": 10}), nil, 7, []string{`"mtu"`}},
		{"dataDir relative", n.conf("1.1.0", map[string]any{"dataDir": "ipam"}), nil, 7, []string{`"dataDir"`}},
		{"name missing", n.conf("1.1.0", map[string]any{"name": nil}), nil, 7, []string{"name"}},
		{"lockTimeout", n.conf("1.1.0", map[string]any{"lockTimeout": "soon"}), nil, 7, []string{`"lockTimeout"`}},
		{"dataDir unusable", n.conf("1.1.0", map[string]any{"dataDir": "/proc/weir-ipam"}), nil, 50, []string{`"dataDir"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			add(tt.stdin, tt.env).code(t, "ADD "+tt.name, tt.code, tt.mention...)
		})
	}
	if l := links(t, pod.Name); len(l) != 1 {
		t.Fatalf("failed ADDs left links in the pod: %v", l)
	}
	if a := n.allocations(); len(a) != 0 {
		t.Fatalf("failed ADDs left allocations: %v", a)
	}
	// CNI_IFNAME that exists: the pod's loopback.
	n.run(call{cmd: "ADD", id: "errs", netns: netns, ifname: "lo", stdin: n.conf("1.1.0", nil)}).code(t, "ADD over lo", 4, "CNI_IFNAME=lo", "already exists")
	if a := n.allocations(); len(a) != 0 {
		t.Fatalf("ADD over an existing interface allocated: %v", a)
	}
}

// TestTryAgainLater holds the IPAM store's lock while the plugin runs.
func TestTryAgainLater(t *testing.T) {
	n := newNode(t)
	pod := testutil.NewNetns(t, "p")
	s, err := ipam.Open(n.dataDir, "weir", ipam.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	conf := n.conf("1.1.0", map[string]any{"lockTimeout": "300ms"})
	for _, c := range []call{
		{cmd: "ADD", id: "busy", netns: "/run/netns/" + pod.Name, ifname: "eth0", stdin: conf},
		{cmd: "DEL", id: "busy", ifname: "eth0", stdin: conf},
		{cmd: "STATUS", stdin: conf},
		{cmd: "GC", stdin: conf},
	} {
		start := time.Now()
		n.run(c).code(t, c.cmd+" while locked", 11, "busy")
		if d := time.Since(start); d > 15*time.Second {
			t.Errorf("%s took %s with lockTimeout 300ms", c.cmd, d)
		}
	}
	if l := links(t, n.host.Name); len(l) != 1 {
		t.Fatalf("ADD that could not allocate left host links: %v", l)
	}
}

// TestStatus covers the STATUS rules: no agent socket (standalone) is fine,
// a live one is fine, a dead one is 51; an unusable or full store is 50.
func TestStatus(t *testing.T) {
	n := newNode(t)
	status := func(over map[string]any) outcome { return n.run(call{cmd: "STATUS", stdin: n.conf("1.1.0", over)}) }
	status(nil).ok(t, "STATUS standalone")

	live := filepath.Join(n.dataDir, "live.sock")
	ln, err := net.Listen("unix", live)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	status(map[string]any{"agentSocket": live}).ok(t, "STATUS with a live agent")

	dead := filepath.Join(n.dataDir, "dead.sock")
	deadSocket(t, dead)
	status(map[string]any{"agentSocket": dead}).code(t, "STATUS with a dead agent", 51, dead, "agentSocket")

	status(map[string]any{"dataDir": "/proc/weir-ipam"}).code(t, "STATUS with unusable dataDir", 50, `"dataDir"`)

	pod := testutil.NewNetns(t, "p")
	small := map[string]any{"podCIDR": "10.9.0.0/30"}
	n.run(call{cmd: "ADD", id: "only", netns: "/run/netns/" + pod.Name, ifname: "eth0", stdin: n.conf("1.1.0", small)}).ok(t, "ADD into a /30")
	status(small).code(t, "STATUS with a full pool", 50, "no free address", "10.9.0.0/30")
}

// deadSocket leaves a unix socket file nobody listens on, as a crashed
// agent does.
func deadSocket(t *testing.T, path string) {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}
