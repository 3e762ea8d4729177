package api

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/weirnet/weir/control/store"
)

// TestProbeMembers: a member whose /readyz answers 200 is ready; one
// answering 503, one not listening and one without an address are not,
// each with why (the 503's body, such as "lagging", relayed).
func TestProbeMembers(t *testing.T) {
	ready := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
		}
	}))
	defer ready.Close()
	busy := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("not ready: store: member b is lagging: applied index 3\n"))
	}))
	defer busy.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	host := func(s *httptest.Server) string { return strings.TrimPrefix(s.URL, "https://") }
	got := probeMembers(context.Background(), ready.Client(), []store.Member{
		{Name: "a", APIAddr: host(ready)}, {Name: "b", APIAddr: host(busy)}, {Name: "c", APIAddr: dead}, {Name: "d"}})
	want := []struct {
		ready bool
		err   string
	}{{true, ""}, {false, "answers 503: not ready: store: member b is lagging: applied index 3"}, {false, "not answering"}, {false, "no API address"}}
	for i, w := range want {
		if got[i].Ready != w.ready || !strings.Contains(got[i].ProbeError, w.err) || (w.err == "") != (got[i].ProbeError == "") {
			t.Errorf("member %s: ready %v, error %q; want %v, %q", got[i].Name, got[i].Ready, got[i].ProbeError, w.ready, w.err)
		}
	}
}
