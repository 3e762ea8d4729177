package dataplane

import (
	"bufio"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/weirnet/weir/tests/testutil"
)

// greeter is a test backend: it greets each TCP connection (or answers each
// UDP datagram) with its name, then echoes lines; a TCP greeter without a
// name greets with the local address the client reached. Close stops it
// and waits.
type greeter struct {
	name  string
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	ln    net.Listener
	pc    net.PacketConn
}

func serveTCP(t *testing.T, ns *testutil.Netns, addr, name string) *greeter {
	t.Helper()
	g := &greeter{name: name, conns: map[net.Conn]struct{}{}}
	if err := ns.Do(func() (err error) { g.ln, err = net.Listen("tcp", addr); return err }); err != nil {
		t.Fatalf("listen %s in %s: %v", addr, ns.Name, err)
	}
	g.wg.Add(1)
	go g.accept()
	t.Cleanup(g.Close)
	return g
}

func serveUDP(t *testing.T, ns *testutil.Netns, addr, name string) *greeter {
	t.Helper()
	g := &greeter{name: name}
	network := "udp4"
	if strings.HasPrefix(addr, "[") {
		network = "udp6"
	}
	if err := ns.Do(func() (err error) { g.pc, err = net.ListenPacket(network, addr); return err }); err != nil {
		t.Fatalf("listen udp %s in %s: %v", addr, ns.Name, err)
	}
	g.wg.Add(1)
	go g.answer()
	t.Cleanup(g.Close)
	return g
}

func (g *greeter) accept() {
	defer g.wg.Done()
	for {
		c, err := g.ln.Accept()
		if err != nil {
			return
		}
		g.mu.Lock()
		g.conns[c] = struct{}{}
		g.mu.Unlock()
		g.wg.Add(1)
		go g.serve(c)
	}
}

func (g *greeter) serve(c net.Conn) {
	defer g.wg.Done()
	defer func() {
		g.mu.Lock()
		delete(g.conns, c)
		g.mu.Unlock()
		c.Close()
	}()
	greeting := g.name
	if greeting == "" { // greet with the address the client reached
		greeting = c.LocalAddr().String()
	}
	if _, err := c.Write([]byte(greeting + "\n")); err != nil {
		return
	}
	rd := bufio.NewReader(c)
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			return
		}
		if _, err := c.Write([]byte(line)); err != nil {
			return
		}
	}
}

func (g *greeter) answer() {
	defer g.wg.Done()
	buf := make([]byte, 1500)
	for {
		_, from, err := g.pc.ReadFrom(buf)
		if err != nil {
			return
		}
		_, _ = g.pc.WriteTo([]byte(g.name+"\n"), from)
	}
}

// Close stops the greeter and closes its connections (idempotent).
func (g *greeter) Close() {
	if g.ln != nil {
		g.ln.Close()
	}
	if g.pc != nil {
		g.pc.Close()
	}
	g.mu.Lock()
	for c := range g.conns {
		c.Close()
	}
	g.mu.Unlock()
	g.wg.Wait()
}
