package dns

import (
	"context"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/weirnet/weir/tests/testutil"
)

// dig runs the real dig against the server at addr and returns its output.
func dig(t *testing.T, addr string, args ...string) string {
	t.Helper()
	testutil.RequireBinary(t, "dig", exec.LookPath)
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	full := append([]string{"@" + host, "-p", port, "+time=5", "+tries=2"}, args...)
	out, err := exec.CommandContext(ctx, "dig", full...).CombinedOutput()
	if err != nil {
		t.Fatalf("dig %s: %v\n%s", strings.Join(full, " "), err, out)
	}
	return string(out)
}

func TestDig(t *testing.T) {
	s, addr := startServer(t, Config{})
	f := testCluster()
	big, bigSlice := bigHeadless(100)
	s.Update(append(f.services, big), append(f.slices, bigSlice), f.pods)
	for _, transport := range []string{"+notcp", "+tcp"} {
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"+short", "web.default.svc.cluster.local"}, "10.96.0.20\n"},
			{[]string{"+short", "AAAA", "web.default.svc.cluster.local"}, "fd00:96::20\n"},
			{[]string{"+short", "SRV", "_http._tcp.web.default.svc.cluster.local"}, "0 100 80 web.default.svc.cluster.local.\n"},
			{[]string{"+short", "-x", "10.96.0.1"}, "kubernetes.default.svc.cluster.local.\n"},
			{[]string{"+short", "-x", "fd00:96::20"}, "web.default.svc.cluster.local.\n"},
			{[]string{"+short", "db.default.svc.cluster.local"}, "10.244.1.5\n10.244.1.6\n"},
			{[]string{"+short", "db-0.db.default.svc.cluster.local"}, "10.244.1.5\n"},
			{[]string{"+short", "10-244-1-10.default.pod.cluster.local"}, "10.244.1.10\n"},
			{[]string{"+short", "TXT", "dns-version.cluster.local"}, "\"1.1.0\"\n"},
			{[]string{"+short", "alias.default.svc.cluster.local"}, "web.default.svc.cluster.local.\n10.96.0.20\n"},
		} {
			args := append([]string{transport}, tc.args...)
			if got := dig(t, addr, args...); got != tc.want {
				t.Errorf("dig %s:\n%q\nwant %q", strings.Join(args, " "), got, tc.want)
			}
		}
		out := dig(t, addr, transport, "nosuch.default.svc.cluster.local")
		if !strings.Contains(out, "status: NXDOMAIN") || !strings.Contains(out, "IN\tSOA\tns.dns.cluster.local. hostmaster.cluster.local.") {
			t.Errorf("dig %s nosuch: want NXDOMAIN with the SOA:\n%s", transport, out)
		}
		out = dig(t, addr, transport, "AAAA", "empty.default.svc.cluster.local")
		if !strings.Contains(out, "status: NOERROR") || !strings.Contains(out, "ANSWER: 0, AUTHORITY: 1") {
			t.Errorf("dig %s AAAA empty: want NODATA with the SOA:\n%s", transport, out)
		}
	}
	// Truncation: dig sees TC over UDP and (by default) retries over TCP.
	out := dig(t, addr, "+noedns", "+ignore", "big.default.svc.cluster.local")
	if !strings.Contains(out, " tc") {
		t.Errorf("UDP without EDNS0: want the TC flag:\n%s", out)
	}
	out = dig(t, addr, "+noedns", "+short", "big.default.svc.cluster.local")
	if n := strings.Count(out, "\n"); n != 100 {
		t.Errorf("after the TCP retry: %d addresses, want 100", n)
	}
	out = dig(t, addr, "+bufsize=4096", "big.default.svc.cluster.local")
	if !strings.Contains(out, "ANSWER: 100,") || strings.Contains(out, ";; Truncated") || !strings.Contains(out, "udp: 4096") {
		t.Errorf("EDNS0 bufsize 4096: want all 100 answers over UDP:\n%s", out)
	}
}
