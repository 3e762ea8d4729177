package cni_test

import (
	"fmt"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/vishvananda/netns"
)

// inNetns runs fn on a locked thread switched into the named namespace.
// Sockets created in fn stay in that namespace afterwards.
func inNetns(name string, fn func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		return err
	}
	defer orig.Close()
	h, err := netns.GetFromName(name)
	if err != nil {
		return fmt.Errorf("open netns %s: %w", name, err)
	}
	defer h.Close()
	if err := netns.Set(h); err != nil {
		return fmt.Errorf("enter netns %s: %w", name, err)
	}
	defer func() { _ = netns.Set(orig) }()
	return fn()
}

// listenEcho listens on listenAddr in namespace ns and echoes every
// connection until the test ends.
func listenEcho(t *testing.T, ns, listenAddr string) {
	t.Helper()
	var ln net.Listener
	err := inNetns(ns, func() (err error) { ln, err = net.Listen("tcp4", listenAddr); return err })
	if err != nil {
		t.Fatalf("listen %s in %s: %v", listenAddr, ns, err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			_, _ = io.Copy(c, c)
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
}

// dialEcho connects from namespace ns to addr and checks the echo.
func dialEcho(ns, addr string) error {
	var c net.Conn
	err := inNetns(ns, func() (err error) { c, err = net.DialTimeout("tcp4", addr, 3*time.Second); return err })
	if err != nil {
		return fmt.Errorf("dial %s from %s: %w", addr, ns, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("weir\n")); err != nil {
		return err
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "weir\n" {
		return fmt.Errorf("echo from %s via %s: %q, %v", addr, ns, buf, err)
	}
	return nil
}

// echo serves on the port of addr in serverNS and dials addr from clientNS.
func echo(t *testing.T, serverNS, clientNS, addr string) {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	listenEcho(t, serverNS, ":"+port)
	if err := dialEcho(clientNS, addr); err != nil {
		t.Fatal(err)
	}
}
