package testutil

import (
	"bytes"
	"net"
	"sync"
	"testing"
)

// Relay forwards TCP connections from a loopback listener to a target and
// records every byte, both ways: a wire tap for "nothing secret travels
// in clear" tests.
type Relay struct {
	ln  net.Listener
	mu  sync.Mutex
	buf bytes.Buffer
}

// NewRelay starts a relay to target on 127.0.0.1:0; it stops, with every
// connection it made, when the test ends.
func NewRelay(t testing.TB, target string) *Relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &Relay{ln: ln}
	var wg sync.WaitGroup
	var cmu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			cmu.Lock()
			conns = append(conns, in, out)
			cmu.Unlock()
			wg.Add(2)
			go func() { defer wg.Done(); r.copy(out, in) }()
			go func() { defer wg.Done(); r.copy(in, out) }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		cmu.Lock()
		for _, c := range conns {
			c.Close()
		}
		cmu.Unlock()
		wg.Wait()
	})
	return r
}

func (r *Relay) copy(dst, src net.Conn) {
	defer dst.Close()
	b := make([]byte, 32<<10)
	for {
		n, err := src.Read(b)
		if n > 0 {
			r.mu.Lock()
			r.buf.Write(b[:n])
			r.mu.Unlock()
			if _, err := dst.Write(b[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// Addr is the relay's listening address.
func (r *Relay) Addr() string { return r.ln.Addr().String() }

// Captured is every byte relayed so far.
func (r *Relay) Captured() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Clone(r.buf.Bytes())
}
