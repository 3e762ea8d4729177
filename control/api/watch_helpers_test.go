package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// event is a decoded watch event.
type event struct {
	Type   string         `json:"type"`
	Object map[string]any `json:"object"`
}

func (ev event) rv() string { return str(ev.Object, "metadata", "resourceVersion") }

func (ev event) name() string { return str(ev.Object, "metadata", "name") }

// watch is an open watch stream.
type watch struct {
	t      testing.TB
	events chan event
	cancel context.CancelFunc
	header http.Header
}

// openWatch starts a watch on path (query included), with extra request
// headers ("Accept: ..."), and checks the response headers.
func (e *env) openWatch(path string, hdr ...string) *watch {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r, err := http.NewRequestWithContext(ctx, "GET", e.http.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	r.Header.Set("Authorization", "Bearer "+testToken)
	for _, h := range hdr {
		k, v, _ := strings.Cut(h, ": ")
		r.Header.Set(k, v)
	}
	res, err := e.http.Client().Do(r)
	if err != nil {
		cancel()
		e.t.Fatalf("watch %s: %v", path, err)
	}
	if res.StatusCode != http.StatusOK {
		cancel()
		e.t.Fatalf("watch %s: HTTP %d", path, res.StatusCode)
	}
	w := &watch{t: e.t, events: make(chan event, 1024), cancel: cancel, header: res.Header}
	go func() {
		defer close(w.events)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var ev event
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				ev = event{Type: "UNDECODABLE:" + sc.Text()}
			}
			w.events <- ev
		}
	}()
	e.t.Cleanup(cancel)
	return w
}

// next waits for the next event (generous timeout for loaded machines).
func (w *watch) next() event {
	w.t.Helper()
	select {
	case ev, ok := <-w.events:
		if !ok {
			w.t.Fatal("watch stream ended, want another event")
		}
		return ev
	case <-time.After(20 * time.Second):
		w.t.Fatal("no watch event within 20s")
	}
	return event{}
}

// nextNonBookmark skips bookmarks (for at most 20s).
func (w *watch) nextNonBookmark() event {
	w.t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		if ev := w.next(); ev.Type != "BOOKMARK" {
			return ev
		}
	}
	w.t.Fatal("only bookmarks for 20s")
	return event{}
}

// none checks that no event arrives within d.
func (w *watch) none(d time.Duration) {
	w.t.Helper()
	select {
	case ev, ok := <-w.events:
		if ok {
			w.t.Fatalf("unexpected watch event %s %s", ev.Type, ev.name())
		}
	case <-time.After(d):
	}
}

// ended waits for the stream to end.
func (w *watch) ended(d time.Duration) {
	w.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case _, ok := <-w.events:
			if !ok {
				return
			}
		case <-deadline:
			w.t.Fatalf("watch still open after %v", d)
		}
	}
}
