package servicelatency

import (
	"bufio"
	"fmt"
	"net"
	"runtime"
	"sync"

	"github.com/vishvananda/netns"
)

// backend is one backend pod's servers, run by the benchmark process with
// sockets bound inside the pod's namespace. Every TCP line and every UDP
// datagram is answered with the backend's name and a newline: the reply
// names the backend that served it. Close stops it and waits.
type backend struct {
	name  string
	ln    net.Listener
	pc    net.PacketConn
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func startBackend(ns, name string) (*backend, error) {
	b := &backend{name: name, conns: map[net.Conn]struct{}{}}
	err := inNetns(ns, func() (err error) {
		if b.ln, err = net.Listen("tcp4", fmt.Sprintf("0.0.0.0:%d", podTCPPort)); err != nil {
			return err
		}
		b.pc, err = net.ListenPacket("udp4", fmt.Sprintf("0.0.0.0:%d", podUDPPort))
		return err
	})
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("backend %s in %s: %w", name, ns, err)
	}
	b.wg.Add(2)
	go b.accept()
	go b.answer()
	return b, nil
}

// inNetns runs fn on a locked thread switched into the named namespace.
func inNetns(name string, fn func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		return fmt.Errorf("get current netns: %w", err)
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

func (b *backend) accept() {
	defer b.wg.Done()
	for {
		c, err := b.ln.Accept()
		if err != nil {
			return
		}
		b.mu.Lock()
		b.conns[c] = struct{}{}
		b.mu.Unlock()
		b.wg.Add(1)
		go b.serve(c)
	}
}

func (b *backend) serve(c net.Conn) {
	defer b.wg.Done()
	defer func() {
		b.mu.Lock()
		delete(b.conns, c)
		b.mu.Unlock()
		c.Close()
	}()
	reply := []byte(b.name + "\n")
	rd := bufio.NewReader(c)
	for {
		if _, err := rd.ReadSlice('\n'); err != nil {
			return
		}
		if _, err := c.Write(reply); err != nil {
			return
		}
	}
}

func (b *backend) answer() {
	defer b.wg.Done()
	buf := make([]byte, 1500)
	reply := []byte(b.name + "\n")
	for {
		_, from, err := b.pc.ReadFrom(buf)
		if err != nil {
			return
		}
		_, _ = b.pc.WriteTo(reply, from)
	}
}

// Close stops the servers, closes open connections and waits (idempotent).
func (b *backend) Close() {
	if b.ln != nil {
		b.ln.Close()
	}
	if b.pc != nil {
		b.pc.Close()
	}
	b.mu.Lock()
	for c := range b.conns {
		c.Close()
	}
	b.mu.Unlock()
	b.wg.Wait()
}
