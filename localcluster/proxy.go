package localcluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/vishvananda/netns"
)

const proxyProc = "api-proxy"

// RunProxy listens on listen (root netns loopback) and forwards each TCP
// connection to a target dialed from inside the named netns, until ctx
// ends. targets is a comma-separated list (the control members' API
// addresses): a connection goes to the last one that answered, else to
// the next in order, so that the API stays reachable when a member dies.
// `weir up` runs it as its own process (`weir up --proxy ...`), recorded
// by PID, so that the host reaches the API without any route or firewall
// change in the root netns.
func RunProxy(ctx context.Context, listen, nsName, targets string) error {
	p := &picker{targets: strings.Split(targets, ",")}
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
			forward(ctx, c, nsName, p)
		}()
	}
}

// picker remembers which target answered last.
type picker struct {
	mu      sync.Mutex
	good    int
	targets []string
}

// dial tries every target once, starting with the last good one.
func (p *picker) dial(nsName string) (net.Conn, error) {
	p.mu.Lock()
	start := p.good
	p.mu.Unlock()
	var errs []error
	for i := range p.targets {
		k := (start + i) % len(p.targets)
		c, err := dialIn(nsName, p.targets[k])
		if err == nil {
			p.mu.Lock()
			p.good = k
			p.mu.Unlock()
			return c, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

func forward(ctx context.Context, c net.Conn, nsName string, p *picker) {
	defer c.Close()
	up, err := p.dial(nsName)
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
		c, derr := net.DialTimeout("tcp", target, 2*time.Second)
		if netns.Set(orig) == nil {
			runtime.UnlockOSThread()
		}
		ch <- result{c, derr}
	}()
	r := <-ch
	return r.c, r.err
}
