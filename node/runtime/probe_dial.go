package runtime

import (
	"context"
	"fmt"
	"net"
	goruntime "runtime"

	"github.com/vishvananda/netns"
)

// dialIn dials addr from the network namespace at nsPath ("" = the
// agent's own). The socket is made on a fresh goroutine locked to its OS
// thread and switched into the namespace; the socket keeps the namespace
// afterwards. The thread is switched back and unlocked; if that fails the
// goroutine ends with the thread locked, so the Go runtime retires it
// instead of reusing it in the wrong namespace.
func dialIn(ctx context.Context, nsPath, network, addr string) (net.Conn, error) {
	var d net.Dialer
	if nsPath == "" {
		return d.DialContext(ctx, network, addr)
	}
	type result struct {
		conn net.Conn
		err  error
	}
	done := make(chan result, 1)
	go func() {
		goruntime.LockOSThread()
		conn, err := dialInLocked(ctx, &d, nsPath, network, addr)
		done <- result{conn, err}
	}()
	r := <-done // the dial is bounded by ctx
	return r.conn, r.err
}

func dialInLocked(ctx context.Context, d *net.Dialer, nsPath, network, addr string) (net.Conn, error) {
	target, err := netns.GetFromPath(nsPath)
	if err != nil {
		return nil, fmt.Errorf("open network namespace %s: %w", nsPath, err)
	}
	defer target.Close()
	orig, err := netns.Get()
	if err != nil {
		return nil, fmt.Errorf("current network namespace: %w", err)
	}
	defer orig.Close()
	if err := netns.Set(target); err != nil {
		return nil, fmt.Errorf("enter network namespace %s: %w", nsPath, err)
	}
	conn, err := d.DialContext(ctx, network, addr)
	if netns.Set(orig) == nil {
		goruntime.UnlockOSThread()
	}
	return conn, err
}
