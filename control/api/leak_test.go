package api_test

import (
	"strings"
	"testing"
	"time"
)

// TestWatchesEndWithTheirClients checks that watch handlers return when
// their clients go away: the open-watch gauge falls back to zero.
func TestWatchesEndWithTheirClients(t *testing.T) {
	e := newEnv(t)
	var ws []*watch
	for range 5 {
		ws = append(ws, e.openWatch(cmPath+"?watch=true"))
	}
	if got := gauge(t, e, "weir_api_watches"); got != "5" {
		t.Fatalf("open watches %s, want 5", got)
	}
	for _, w := range ws {
		w.cancel()
	}
	deadline := time.Now().Add(20 * time.Second)
	for gauge(t, e, "weir_api_watches") != "0" {
		if time.Now().After(deadline) {
			t.Fatalf("watch handlers still running 20s after their clients left")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func gauge(t *testing.T, e *env, name string) string {
	t.Helper()
	for _, line := range strings.Split(string(e.req("GET", "/metrics", nil).must(t, 200).body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	t.Fatalf("metric %s not found", name)
	return ""
}

// TestCloseWatches: a shutting-down server ends its watch streams.
func TestCloseWatches(t *testing.T) {
	e := newEnv(t)
	w := e.openWatch(cmPath + "?watch=true&resourceVersion=1")
	e.server.CloseWatches()
	e.server.CloseWatches() // idempotent
	w.ended(20 * time.Second)
}
