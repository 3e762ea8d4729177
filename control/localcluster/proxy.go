package localcluster

import (
	"context"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"time"

	"github.com/vishvananda/netns"
)

const proxyProc = "api-proxy"

// RunProxy listens on listen (root netns loopback) and forwards each TCP
// connection to target dialed from inside the named netns, until ctx ends.
// `weir up` runs it as its own process (`weir up --proxy ...`), recorded
// by PID, so that the host reaches the API without any route or firewall
// change in the root netns.
func RunProxy(ctx context.Context, listen, nsName, target string) error {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("API proxy listen on %s: %w (is another weir up running?)", listen, err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	go func() { <-ctx.Done(); ln.Close() }()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("API proxy accept: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			forward(ctx, c, nsName, target)
		}()
	}
}

func forward(ctx context.Context, c net.Conn, nsName, target string) {
	defer c.Close()
	up, err := dialIn(nsName, target)
	if err != nil {
		return
	}
	defer up.Close()
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, c); up.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
	go func() { io.Copy(c, up); c.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
	for i := 0; i < 2; i++ {
		select {
		case <-done:
		case <-ctx.Done():
			c.Close()
			up.Close()
			<-done
		}
	}
}

// dialIn dials target from inside the named netns. It runs on its own
// goroutine with a locked thread; if the thread cannot be switched back,
// it stays locked and the runtime discards it when the goroutine ends.
func dialIn(nsName, target string) (net.Conn, error) {
	type result struct {
		c   net.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{err: err}
			return
		}
		defer orig.Close()
		h, err := netns.GetFromName(nsName)
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{err: fmt.Errorf("open netns %s: %w", nsName, err)}
			return
		}
		defer h.Close()
		if err := netns.Set(h); err != nil {
			ch <- result{err: err} // thread state unknown: keep it locked
			return
		}
		c, derr := net.DialTimeout("tcp", target, 5*time.Second)
		if netns.Set(orig) == nil {
			runtime.UnlockOSThread()
		}
		ch <- result{c, derr}
	}()
	r := <-ch
	return r.c, r.err
}
