package member

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// raiseFileLimit lifts RLIMIT_NOFILE to want (or the hard limit), best
// effort.
func raiseFileLimit(t *testing.T, want uint64) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return
	}
	if rl.Cur >= want {
		return
	}
	rl.Cur = min(want, rl.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Logf("raise RLIMIT_NOFILE: %v", err)
	}
}

// dialFrom opens a TCP connection to addr from the loopback address src.
func dialFrom(src, addr string) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	return d.Dial("tcp", addr)
}

// closedWithin waits until c is closed by the server (a read returns an
// error other than a timeout) and reports how long that took; -1 if it
// was still open at the deadline.
func closedWithin(c net.Conn, deadline time.Time) time.Duration {
	start := time.Now()
	_ = c.SetReadDeadline(deadline)
	buf := make([]byte, 512)
	for {
		if _, err := c.Read(buf); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				return -1
			}
			return time.Since(start)
		}
	}
}

// TestHardenedServer: with 2,000 idle unauthenticated connections (over
// the connection cap, from 20 addresses) and 200 clients stalling
// mid-body, an authorized client from its own address still gets
// answers within 1 s, and the server closes every offender within its
// timeouts (the handshake/header timeout for the idle ones, the read
// timeout for the slow bodies).
func TestHardenedServer(t *testing.T) {
	if testing.Short() {
		t.Skip("2,200 connections")
	}
	raiseFileLimit(t, 16384)
	const (
		headerTimeout = 2 * time.Second
		readTimeout   = 3 * time.Second
		slack         = 2 * time.Second
	)
	m := startMember(t, Config{Name: "m1", DataDir: t.TempDir(), Bootstrap: true, Serve: ServerOptions{
		ReadHeaderTimeout: headerTimeout, ReadTimeout: readTimeout, IdleTimeout: 5 * time.Second,
		MaxConnections: 1024, MaxConnectionsPerHost: 256,
	}})
	addr := m.APIAddr()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(m.CACert())
	tc := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
	token := m.Store.Token()

	// The authorized client: its own address, a keep-alive connection.
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: tc,
		DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}}).DialContext}}
	defer hc.CloseIdleConnections()
	ask := func(path string) (int, time.Duration) {
		start := time.Now()
		req, _ := http.NewRequest("GET", "https://"+addr+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := hc.Do(req)
		if err != nil {
			t.Errorf("authorized GET %s: %v", path, err)
			return 0, time.Since(start)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, time.Since(start)
	}
	if code, _ := ask("/api/v1/namespaces"); code != 200 {
		t.Fatalf("before the flood: %d", code)
	}

	// 2,000 idle connections: never a byte sent.
	var idle []net.Conn
	var mu sync.Mutex
	var wg sync.WaitGroup
	for h := 0; h < 20; h++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				c, err := dialFrom(fmt.Sprintf("127.0.0.%d", 10+h), addr)
				if err != nil {
					t.Errorf("idle dial: %v", err)
					return
				}
				mu.Lock()
				idle = append(idle, c)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	idleStart := time.Now()
	defer func() {
		for _, c := range idle {
			c.Close()
		}
	}()

	// 200 slow-body clients: TLS, headers, 10 of 100,000 body bytes, then
	// nothing.
	slow := make([]net.Conn, 200)
	for i := range slow {
		wg.Add(1)
		go func() {
			defer wg.Done()
			raw, err := dialFrom("127.0.0.50", addr)
			if err != nil {
				t.Errorf("slow dial: %v", err)
				return
			}
			c := tls.Client(raw, tc)
			if err := c.Handshake(); err != nil {
				t.Errorf("slow handshake: %v", err)
				raw.Close()
				return
			}
			fmt.Fprintf(c, "POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"kind\":\"")
			slow[i] = c
		}()
	}
	wg.Wait()
	slowStart := time.Now()
	defer func() {
		for _, c := range slow {
			if c != nil {
				c.Close()
			}
		}
	}()

	// The authorized client, on a new connection, then on its kept one.
	hc.CloseIdleConnections()
	for _, p := range []string{"/api/v1/namespaces", "/livez", "/api/v1/namespaces/default/configmaps", "/version"} {
		code, took := ask(p)
		if code != 200 || took > time.Second {
			t.Errorf("authorized GET %s under the flood: %d in %v; want 200 within 1s", p, code, took)
		}
	}

	// Every offender is closed within its timeout.
	var late int
	var worstIdle, worstSlow time.Duration
	for _, c := range idle {
		d := closedWithin(c, idleStart.Add(headerTimeout+slack))
		if d < 0 {
			late++
		}
		worstIdle = max(worstIdle, time.Since(idleStart))
	}
	for _, c := range slow {
		if c == nil {
			continue
		}
		d := closedWithin(c, slowStart.Add(readTimeout+slack))
		if d < 0 {
			late++
		}
		worstSlow = max(worstSlow, time.Since(slowStart))
	}
	t.Logf("idle connections closed within %v, slow bodies within %v", worstIdle.Round(time.Millisecond), worstSlow.Round(time.Millisecond))
	if late > 0 {
		t.Errorf("%d offending connections still open after their timeout (+%v)", late, slack)
	}
	if code, took := ask("/api/v1/namespaces"); code != 200 || took > time.Second {
		t.Errorf("after the flood: %d in %v", code, took)
	}
}

// TestConnLimiter: over the per-host cap a new connection is closed; at
// the total cap the oldest connection that has not completed a request
// makes room for the new one, while a connection that has been answered
// is kept.
func TestConnLimiter(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lim := newConnLimiter(ln, ServerOptions{MaxConnections: 3, MaxConnectionsPerHost: 2})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }),
		ConnState: lim.connState, ReadHeaderTimeout: time.Minute}
	go srv.Serve(lim)
	defer srv.Close()
	addr := ln.Addr().String()
	dial := func(src string) net.Conn {
		t.Helper()
		c, err := dialFrom(src, addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	closed := func(c net.Conn) bool {
		return closedWithin(c, time.Now().Add(300*time.Millisecond)) >= 0
	}
	// An answered keep-alive connection from 127.0.0.2.
	kept := dial("127.0.0.2")
	fmt.Fprint(kept, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	buf := make([]byte, 512)
	_ = kept.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := kept.Read(buf); err != nil || !strings.Contains(string(buf[:n]), "ok") {
		t.Fatalf("answer: %q %v", buf[:n], err)
	}
	idle := dial("127.0.0.2") // the host's second
	time.Sleep(50 * time.Millisecond)
	if over := dial("127.0.0.2"); !closed(over) {
		t.Error("a third connection from one host was kept (per-host cap 2)")
	}
	idle3 := dial("127.0.0.3") // total 3: kept, idle, idle3
	time.Sleep(50 * time.Millisecond)
	fresh := dial("127.0.0.4") // at the cap: idle (oldest unanswered) goes
	if !closed(idle) {
		t.Error("the oldest unanswered connection was not dropped at the total cap")
	}
	for name, c := range map[string]net.Conn{"answered": kept, "newer idle": idle3, "new": fresh} {
		if closed(c) {
			t.Errorf("the %s connection was closed", name)
		}
	}
	fmt.Fprint(kept, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	_ = kept.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := kept.Read(buf); err != nil || !strings.Contains(string(buf[:n]), "ok") {
		t.Errorf("the answered connection after the flood: %q %v", buf[:n], err)
	}
}
