package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

func TestDNSCommandServesAndReloads(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "svc.yaml")
	svc := func(ip string) []byte {
		return []byte("apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\nspec: {clusterIP: " + ip + "}\n")
	}
	if err := os.WriteFile(path, svc("10.96.0.20"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.LocalAddr().String()
	_ = l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runDNS(ctx, []string{"--listen", addr, "--services", dir, "--allow", "10.244.0.0/16"}) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("weir dns: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("weir dns did not stop")
		}
	}()

	waitForA(t, addr, "10.96.0.20")
	if err := os.WriteFile(path, svc("10.96.0.21"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitForA(t, addr, "10.96.0.21")
}

// waitForA asks for web.default's A record until it is want.
func waitForA(t *testing.T, addr, want string) {
	t.Helper()
	c := &mdns.Client{Timeout: time.Second}
	m := new(mdns.Msg)
	m.SetQuestion("web.default.svc.cluster.local.", mdns.TypeA)
	var last string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		r, _, err := c.Exchange(m, addr)
		if err != nil {
			last = err.Error()
			continue
		}
		if len(r.Answer) == 1 {
			if last = r.Answer[0].(*mdns.A).A.String(); last == want {
				return
			}
		} else {
			last = "rcode " + strconv.Itoa(r.Rcode)
		}
	}
	t.Fatalf("web.default never resolved to %s (last: %s)", want, last)
}

func TestDNSCommandFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--listen", "127.0.0.1:0"},
		{"--listen", "127.0.0.1:0", "--services", "x", "--allow", "10.0.0.0"},
		{"--listen", "127.0.0.1:0", "--services", "x", "--pods", "some"},
		{"--listen", "127.0.0.1:0", "--services", "/nonexistent/weir"},
	} {
		if err := runDNS(context.Background(), args); err == nil {
			t.Errorf("weir dns %v: no error", args)
		}
	}
}
