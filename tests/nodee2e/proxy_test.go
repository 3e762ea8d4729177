package nodee2e

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/weirnet/weir/tests/testutil"
)

// proxyInto listens on root-netns loopback and forwards each connection to
// target dialed from inside ns, so that the test's API client (in the root
// netns) reaches a member that listens only inside the underlay netns.
func proxyInto(t *testing.T, ns *testutil.Netns, target string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	track := func(c net.Conn, on bool) {
		mu.Lock()
		defer mu.Unlock()
		if on {
			conns[c] = true
		} else {
			delete(conns, c)
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				forward(c, ns, target, track)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

func forward(c net.Conn, ns *testutil.Netns, target string, track func(net.Conn, bool)) {
	defer c.Close()
	var up net.Conn
	if err := ns.Do(func() (err error) { up, err = net.DialTimeout("tcp", target, 5*time.Second); return err }); err != nil {
		return
	}
	defer up.Close()
	track(c, true)
	track(up, true)
	defer track(c, false)
	defer track(up, false)
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, c); up.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
	go func() { io.Copy(c, up); c.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
	<-done
	<-done
}
