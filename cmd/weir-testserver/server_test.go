package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"
)

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func get(addr, path string) (int, string, error) {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + addr + path)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// TestDrain: after the stop signal the server keeps answering for the
// drain period with /healthz failing, then stops listening.
func TestDrain(t *testing.T) {
	addr := freePort(t)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	cfg := config{HTTP: addr, Reply: "me", Drain: 1500 * time.Millisecond}
	go func() { done <- run(ctx, cfg, slog.New(slog.DiscardHandler)) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if code, body, err := get(addr, "/healthz"); err == nil && code == 200 && body == "ok\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("server did not come up")
		}
		time.Sleep(20 * time.Millisecond)
	}
	stopped := time.Now()
	stop()
	time.Sleep(200 * time.Millisecond)
	if code, _, err := get(addr, "/healthz"); err != nil || code != http.StatusServiceUnavailable {
		t.Fatalf("/healthz while draining: %d %v, want 503", code, err)
	}
	if code, body, err := get(addr, "/"); err != nil || code != 200 || body != "me" {
		t.Fatalf("GET / while draining: %d %q %v, want 200 me", code, body, err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("server did not stop after the drain")
	}
	if el := time.Since(stopped); el < 1500*time.Millisecond {
		t.Errorf("stopped %v after the signal, before the 1.5 s drain", el)
	}
	if _, _, err := get(addr, "/"); err == nil {
		t.Fatal("still serving after the drain")
	}
}
