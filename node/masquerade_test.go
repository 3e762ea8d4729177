package node

import (
	"context"
	"net/netip"
	"os/exec"
	"strings"
	"testing"

	"github.com/weirnet/weir/tests/testutil"
)

func TestMasqRules(t *testing.T) {
	non, err := nonMasqueradeCIDRs("10.244.0.0/16", "10.96.0.0/12", []string{"192.168.100.0/24", "fd00::/64"})
	if err != nil {
		t.Fatal(err)
	}
	got := masqRules(netip.MustParsePrefix("10.244.1.0/24"), "eth0", non)
	for _, want := range []string{"add table ip weir_masq\ndelete table ip weir_masq\n", "elements = { 10.244.0.0/16, 10.96.0.0/12, 192.168.100.0/24 }",
		"type nat hook postrouting priority srcnat; policy accept;", "ip saddr != 10.244.1.0/24 return", "ip daddr @nonmasq return",
		`oifname != "eth0" return`, "tcp flags & (syn | ack) != syn return", "\t\tmasquerade\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("rules lack %q:\n%s", want, got)
		}
	}
	if _, err := nonMasqueradeCIDRs("", "", []string{"10.0.0.300/8"}); err == nil {
		t.Error("a bad CIDR was accepted")
	}
}

// TestApplyMasquerade: nft accepts the table in a weir netns, twice (the
// script replaces it), and it holds the rule.
func TestApplyMasquerade(t *testing.T) {
	testutil.RequirePrivileged(t)
	testutil.RequireBinary(t, "nft", exec.LookPath)
	ns := testutil.NewNetns(t, "masq")
	non, _ := nonMasqueradeCIDRs("10.244.0.0/16", "10.96.0.0/12", nil)
	// Node addresses, one twice and one inside a CIDR already listed: the
	// set merges them.
	for _, ip := range []string{"192.168.77.2", "192.168.77.2", "10.244.3.1"} {
		non = append(non, netip.PrefixFrom(netip.MustParseAddr(ip), 32))
	}
	script := masqRules(netip.MustParsePrefix("10.244.1.0/24"), "eth0", non)
	for i := 0; i < 2; i++ {
		if err := applyMasquerade(context.Background(), ns.Name, script); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command("ip", "netns", "exec", ns.Name, "nft", "list", "table", "ip", masqTable).CombinedOutput()
	if err != nil || strings.Count(string(out), "masquerade") != 1 || !strings.Contains(string(out), "10.96.0.0/12") || !strings.Contains(string(out), "192.168.77.2") {
		t.Errorf("nft list table: %v\n%s", err, out)
	}
}
