package servicelatency

import (
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// example is two services as kube-proxy's own tests write them: a TCP port
// with one endpoint and a UDP port with three.
func example() []SvcPort {
	ap := netip.MustParseAddrPort
	return []SvcPort{
		{Namespace: "ns1", Name: "svc1", PortName: "p80", Proto: "tcp", VIP: netip.MustParseAddr("172.30.0.41"), Port: 80,
			Endpoints: []netip.AddrPort{ap("10.180.0.1:80")}},
		{Namespace: "ns2", Name: "svc2", PortName: "dns", Proto: "udp", VIP: netip.MustParseAddr("172.30.0.42"), Port: 53,
			Endpoints: []netip.AddrPort{ap("10.180.0.2:53"), ap("10.180.0.3:53"), ap("10.180.0.4:53")}},
	}
}

func TestGoldenRules(t *testing.T) {
	svcs := example()
	cur := changed(svcs[1], 0)
	ipt := "# base (iptables-restore)\n" + IptablesBase() +
		"# full sync (iptables-restore --noflush)\n" + IptablesRules(svcs) +
		"# ns2/svc2:dns changed (iptables-restore --noflush)\n" + IptablesChange(append([]SvcPort(nil), svcs...), svcs[1], cur)
	nft := "# full sync (nft -f)\n" + NftRules(svcs) + "# ns2/svc2:dns changed (nft -f)\n" + NftChange(svcs[1], cur)
	golden(t, "iptables.golden", ipt)
	golden(t, "nftables.golden", nft)
	for _, want := range []string{
		"-A KUBE-SVC-", "-m statistic --mode random --probability 0.3333333333 -j KUBE-SEP-",
		"--probability 0.5000000000", "-j DNAT --to-destination 10.180.0.1:80", "-A KUBE-SEP-", "-j KUBE-MARK-MASQ",
		"-A KUBE-SERVICES -m comment --comment \"ns1/svc1:p80 cluster IP\" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O",
	} {
		if !strings.Contains(ipt, want) {
			t.Errorf("iptables rules lack %q", want)
		}
	}
	for _, want := range []string{
		"add element ip kube-proxy service-ips { 172.30.0.41 . tcp . 80 : goto service-ULMVA6XW-ns1/svc1/tcp/p80 }",
		"numgen random mod 3 vmap { 0 : goto endpoint-", "meta l4proto tcp dnat to 10.180.0.1:80",
	} {
		if !strings.Contains(nft, want) {
			t.Errorf("nftables rules lack %q", want)
		}
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the generated rules (run with -update after checking the diff):\n%s", path, firstDiff(string(want), got))
	}
}

func firstDiff(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(la) || i < len(lb); i++ {
		var x, y string
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if x != y {
			return "line " + strconv.Itoa(i+1) + ":\n- " + x + "\n+ " + y
		}
	}
	return ""
}
