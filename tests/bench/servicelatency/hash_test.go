package servicelatency

import (
	"net/netip"
	"testing"
)

// TestChainNames checks the hashes against chain names kube-proxy itself
// prints for ns1/svc1 port p80 with endpoint 10.180.0.1:80.
func TestChainNames(t *testing.T) {
	s := SvcPort{Namespace: "ns1", Name: "svc1", PortName: "p80", Proto: "tcp",
		VIP: netip.MustParseAddr("172.30.0.41"), Port: 80, Endpoints: []netip.AddrPort{netip.MustParseAddrPort("10.180.0.1:80")}}
	for _, c := range []struct{ got, want string }{
		{svcChain(s), "KUBE-SVC-XPGD46QRK7WJZT7O"},
		{sepChain(s, "10.180.0.1:80"), "KUBE-SEP-SXIVWICOYRO3J4NJ"},
		{nftServiceChain(s), "service-ULMVA6XW-ns1/svc1/tcp/p80"},
		{nftEndpointChain(s, 0), "endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80"},
	} {
		if c.got != c.want {
			t.Errorf("got %s, want %s", c.got, c.want)
		}
	}
}
