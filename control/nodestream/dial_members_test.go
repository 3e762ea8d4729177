package nodestream

import (
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	pb "github.com/weirnet/weir/vocab/nodestreampb"
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
	cert, err := e.ca.NodeClientCert("a", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	get := func() (*tls.Certificate, error) { return cert, nil }
	c, conn, err := Dial(DialConfig{Addr: dead + ", " + e.addr, Certificate: get, CAPEM: e.ca.CertPEM})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := c.Register(ctxT(t), &pb.RegisterRequest{NodeName: "a", Addresses: []string{"192.0.2.1"},
		Capacity: map[string]string{"cpu": "2", "pods": "110"}, KernelVersion: "6.1.0"}); err != nil {
		t.Fatalf("register through %s,%s: %v", dead, e.addr, err)
	}
	for _, bad := range []string{"nocolon,127.0.0.1:1", ",,"} {
		if _, _, err := Dial(DialConfig{Addr: bad, Certificate: get, CAPEM: e.ca.CertPEM}); err == nil {
			t.Errorf("Dial(%q) accepted", bad)
		}
	}
}

// FuzzTargetOf: any server list gives a target or an error, never a
// panic, and a list target holds one resolver address per listed member.
func FuzzTargetOf(f *testing.F) {
	for _, s := range []string{"127.0.0.1:9443", "a:1,b:2", ",,", "nocolon,x:1", "[::1]:9443, 10.0.0.1:9443", " , a:1 ,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		target, opts, err := targetOf(s)
		if err != nil {
			return
		}
		if target == "" {
			t.Fatalf("targetOf(%q): empty target without an error", s)
		}
		if strings.Contains(s, ",") && len(opts) != 1 {
			t.Fatalf("targetOf(%q): %d dial options, want the resolver", s, len(opts))
		}
	})
}
