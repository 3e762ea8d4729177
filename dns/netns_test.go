package dns

import (
	"context"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/weirnet/weir/tests/testutil"
)

// podNetns is a network namespace standing in for a pod: it has the
// server's address on its loopback and a resolv.conf written by
// PodResolvConf, which `ip netns exec` mounts over /etc/resolv.conf.
type podNetns struct {
	*testutil.Netns
	t *testing.T
}

const nsServerIP = "10.77.0.10"

func newPodNetns(t *testing.T, namespace string) *podNetns {
	testutil.RequireBinary(t, "dig", exec.LookPath)
	n := testutil.NewNetns(t, "dns")
	n.Run(t, "ip", "addr", "add", nsServerIP+"/32", "dev", "lo")
	n.Run(t, "ip", "addr", "add", "10.88.0.2/32", "dev", "lo")
	dir := filepath.Join("/etc/netns", n.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	conf := PodResolvConf([]netip.Addr{netip.MustParseAddr(nsServerIP)}, namespace, "cluster.local")
	if err := os.WriteFile(filepath.Join(dir, "resolv.conf"), conf, 0o644); err != nil {
		t.Fatal(err)
	}
	return &podNetns{n, t}
}

// serve runs s on nsServerIP:53 inside the namespace.
func (p *podNetns) serve(s *Server) {
	var udp *net.UDPConn
	var tcp *net.TCPListener
	if err := p.Do(func() error {
		var err error
		udp, tcp, err = Listen(nsServerIP + ":53")
		return err
	}); err != nil {
		p.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(context.Background(), udp, tcp) }()
	p.t.Cleanup(func() {
		_ = s.Close()
		if err := <-done; err != nil {
			p.t.Errorf("Serve: %v", err)
		}
	})
}

// dig runs dig inside the namespace with its resolv.conf.
func (p *podNetns) dig(args ...string) string {
	p.t.Helper()
	out := p.Run(p.t, append([]string{"dig", "+time=5", "+tries=2"}, args...)...)
	return out
}

func TestDigSearchFromPodNamespace(t *testing.T) {
	p := newPodNetns(t, "default")
	up := startUpstream(t, goodUpstream)
	s, err := NewServer(Config{
		Logger:      quietLogger(),
		Upstreams:   []string{up.addr},
		AllowedNets: []netip.Prefix{netip.MustParsePrefix("10.77.0.0/16")},
	})
	if err != nil {
		t.Fatal(err)
	}
	f := testCluster()
	s.Update(f.services, f.slices, f.pods)
	p.serve(s)

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"kubernetes.default"}, "10.96.0.1\n"},
		{[]string{"web"}, "10.96.0.20\n"},
		{[]string{"web.default"}, "10.96.0.20\n"},
		{[]string{"web.default.svc"}, "10.96.0.20\n"},
		{[]string{"+tcp", "web.default.svc"}, "10.96.0.20\n"},
		{[]string{"kube-dns.kube-system"}, "10.96.0.10\n"},
		{[]string{"SRV", "_http._tcp.web"}, "0 100 80 web.default.svc.cluster.local.\n"},
		{[]string{"SRV", "_pg._tcp.db"}, "0 50 5432 10-244-1-6.db.default.svc.cluster.local.\n0 50 5432 db-0.db.default.svc.cluster.local.\n"},
		{[]string{"-x", "10.96.0.20"}, "web.default.svc.cluster.local.\n"},
		{[]string{"-x", "10.244.1.5"}, "db-0.db.default.svc.cluster.local.\n"},
		{[]string{"db"}, "10.244.1.5\n10.244.1.6\n"},
		{[]string{"db-0.db"}, "10.244.1.5\n"},
		{[]string{"10-244-1-10.default.pod"}, "10.244.1.10\n"},
		{[]string{"ext"}, "example.org.\n192.0.2.1\n"},
		{[]string{"www.example.org"}, "192.0.2.1\n"},
	} {
		args := append([]string{"+search", "+short"}, tc.args...)
		if got := p.dig(args...); sortedLines(got) != sortedLines(tc.want) {
			t.Errorf("dig %s:\n%q\nwant %q", strings.Join(args, " "), got, tc.want)
		}
	}
	// The ExternalName follows an update.
	if err := s.Apply(Delta{Services: []corev1.Service{externalSvc("default", "ext", "moved.example.net")}}); err != nil {
		t.Fatal(err)
	}
	if got := p.dig("+search", "+short", "ext"); got != "moved.example.net.\n192.0.2.1\n" {
		t.Errorf("after the update: %q", got)
	}
	// A source outside AllowedNets is refused.
	if out := p.dig("-b", "10.88.0.2", "web.default.svc.cluster.local"); !strings.Contains(out, "status: REFUSED") {
		t.Errorf("query from 10.88.0.2 was not refused:\n%s", out)
	}
}

// TestWildcardListenRepliesFromQueriedAddress checks that a server bound
// to 0.0.0.0 answers from the address each query was sent to.
func TestWildcardListenRepliesFromQueriedAddress(t *testing.T) {
	p := newPodNetns(t, "default")
	s, err := NewServer(Config{Logger: quietLogger(), AllowedNets: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	if err != nil {
		t.Fatal(err)
	}
	f := testCluster()
	s.Update(f.services, f.slices, f.pods)
	var udp *net.UDPConn
	var tcp *net.TCPListener
	if err := p.Do(func() error {
		var err error
		udp, tcp, err = Listen("0.0.0.0:53")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(context.Background(), udp, tcp) }()
	t.Cleanup(func() { _ = s.Close(); <-done })
	// dig checks that the reply comes from the address it asked.
	for _, server := range []string{nsServerIP, "10.88.0.2", "127.0.0.1"} {
		out := p.dig("@"+server, "+short", "-b", "10.88.0.2", "web.default.svc.cluster.local")
		if out != "10.96.0.20\n" {
			t.Errorf("dig @%s: %q", server, out)
		}
	}
}

func sortedLines(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
