package nodestream

import (
	"net"
	"testing"

	pb "github.com/weirnet/weir/control/nodestream/nodestreampb"
)

// TestDialMembers: with several members listed, a dead first address is
// skipped and the live one answers (its certificate verified against its
// own host).
func TestDialMembers(t *testing.T) {
	e := newEnv(t, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	c, conn, err := Dial(DialConfig{Addr: dead + ", " + e.addr, Token: testToken, CAPEM: e.ca.CertPEM})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := c.Register(ctxT(t), &pb.RegisterRequest{NodeName: "a", Addresses: []string{"192.0.2.1"},
		Capacity: map[string]string{"cpu": "2", "pods": "110"}, KernelVersion: "6.1.0"}); err != nil {
		t.Fatalf("register through %s,%s: %v", dead, e.addr, err)
	}
	for _, bad := range []string{"nocolon,127.0.0.1:1", ",,"} {
		if _, _, err := Dial(DialConfig{Addr: bad, Token: testToken, CAPEM: e.ca.CertPEM}); err == nil {
			t.Errorf("Dial(%q) accepted", bad)
		}
	}
}
