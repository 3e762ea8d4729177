package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/api"
	"github.com/weirnet/weir/control/store/storetest"
)

func cm(name string, labels string) string {
	return fmt.Sprintf(`{"metadata":{"name":%q,"labels":{%s}},"data":{"v":"1"}}`, name, labels)
}

func TestWatchResumeFromRevision(t *testing.T) {
	e := newEnv(t)
	rv1 := str(e.req("POST", cmPath, cm("a", "")).must(t, 201).obj(t), "metadata", "resourceVersion")
	rv2 := str(e.req("POST", cmPath, cm("b", "")).must(t, 201).obj(t), "metadata", "resourceVersion")
	rv3 := str(e.req("DELETE", cmPath+"/a", nil).must(t, 200).obj(t), "metadata", "resourceVersion")
	e.req("POST", "/api/v1/namespaces/kube-system/configmaps", cm("elsewhere", "")).must(t, 201)

	w := e.openWatch(cmPath + "?watch=true&resourceVersion=" + rv1)
	if ev := w.next(); ev.Type != "ADDED" || ev.name() != "b" || ev.rv() != rv2 {
		t.Fatalf("got %s %s@%s, want ADDED b@%s", ev.Type, ev.name(), ev.rv(), rv2)
	}
	if ev := w.next(); ev.Type != "DELETED" || ev.name() != "a" || ev.rv() != rv3 {
		t.Fatalf("got %s %s@%s, want DELETED a@%s", ev.Type, ev.name(), ev.rv(), rv3)
	}
	rv4 := str(e.req("POST", cmPath, cm("c", "")).must(t, 201).obj(t), "metadata", "resourceVersion")
	if ev := w.next(); ev.Type != "ADDED" || ev.name() != "c" || ev.rv() != rv4 {
		t.Fatalf("got %s %s@%s, want ADDED c@%s", ev.Type, ev.name(), ev.rv(), rv4)
	}
	w.none(300 * time.Millisecond) // the kube-system write is not in this namespace

	// without resourceVersion: the current state first, then changes
	w2 := e.openWatch(cmPath + "?watch=1")
	seen := map[string]bool{}
	for range 2 {
		ev := w2.next()
		if ev.Type != "ADDED" {
			t.Fatalf("initial event %s, want ADDED", ev.Type)
		}
		seen[ev.name()] = true
	}
	if !seen["b"] || !seen["c"] {
		t.Fatalf("initial state %v, want b and c", seen)
	}
	e.req("DELETE", cmPath+"/b", nil).must(t, 200)
	if ev := w2.next(); ev.Type != "DELETED" || ev.name() != "b" {
		t.Fatalf("got %s %s, want DELETED b", ev.Type, ev.name())
	}
	// all namespaces
	w3 := e.openWatch("/api/v1/configmaps?watch=true&resourceVersion=" + rv1)
	names := map[string]bool{}
	for range 4 {
		names[w3.next().name()] = true
	}
	if !names["elsewhere"] {
		t.Fatalf("all-namespace watch missed kube-system: %v", names)
	}
}

func TestWatchGone(t *testing.T) {
	cfg := storetest.Config("m1", t.TempDir())
	cfg.Bootstrap, cfg.HistoryRevisions = true, 8
	e := newEnvOn(t, storetest.Open(t, cfg))
	for i := range 40 {
		e.req("POST", cmPath, cm(fmt.Sprintf("c%d", i), "")).must(t, 201)
	}
	w := e.openWatch(cmPath + "?watch=true&resourceVersion=2")
	ev := w.next()
	if ev.Type != "ERROR" || path(ev.Object, "code") != float64(http.StatusGone) || str(ev.Object, "reason") != "Expired" || str(ev.Object, "kind") != "Status" ||
		!strings.HasPrefix(str(ev.Object, "message"), "too old resource version: 2 (") {
		t.Fatalf("got %s %v, want ERROR with a 410 Expired Status, too old resource version: 2 (N)", ev.Type, ev.Object)
	}
	w.ended(10 * time.Second)
	// a list at an exact revision older than the history is gone too
	e.req("GET", cmPath+"?resourceVersion=2&resourceVersionMatch=Exact", nil).status(t, http.StatusGone, "Expired")
}

func TestWatchBookmarksAndTimeout(t *testing.T) {
	e := newEnv(t, func(c *api.Config) { c.BookmarkInterval = 100 * time.Millisecond })
	rv := str(e.req("POST", cmPath, cm("a", "")).must(t, 201).obj(t), "metadata", "resourceVersion")
	w := e.openWatch(cmPath + "?watch=true&allowWatchBookmarks=true&timeoutSeconds=2&resourceVersion=" + rv)
	ev := w.next()
	if ev.Type != "BOOKMARK" || ev.rv() != rv || str(ev.Object, "kind") != "ConfigMap" || len(ev.Object) != 3 || len(ev.Object["metadata"].(map[string]any)) != 1 {
		t.Fatalf("got %s %v, want a ConfigMap BOOKMARK at %s with only kind, apiVersion and metadata.resourceVersion", ev.Type, ev.Object, rv)
	}
	rv2 := str(e.req("PUT", cmPath+"/a", cm("a", `"x":"y"`)).must(t, 200).obj(t), "metadata", "resourceVersion")
	if ev := w.nextNonBookmark(); ev.Type != "MODIFIED" || ev.rv() != rv2 {
		t.Fatalf("got %s@%s, want MODIFIED@%s", ev.Type, ev.rv(), rv2)
	}
	if ev := w.next(); ev.Type != "BOOKMARK" || atoi(t, ev.rv()) < atoi(t, rv2) {
		t.Fatalf("bookmark after an event at %s says %s", rv2, ev.rv())
	}
	w.ended(20 * time.Second) // timeoutSeconds=2
	// no bookmarks unless asked for
	w2 := e.openWatch(cmPath + "?watch=true&resourceVersion=" + rv2)
	w2.none(400 * time.Millisecond)
}

func TestWatchSelectorTransitions(t *testing.T) {
	e := newEnv(t)
	w := e.openWatch(cmPath + "?watch=true&labelSelector=app%3Dweb&resourceVersion=1")
	e.req("POST", cmPath, cm("other", `"app":"db"`)).must(t, 201)
	e.req("POST", cmPath, cm("web", `"app":"web"`)).must(t, 201)
	if ev := w.next(); ev.Type != "ADDED" || ev.name() != "web" {
		t.Fatalf("got %s %s, want ADDED web", ev.Type, ev.name())
	}
	e.req("PUT", cmPath+"/web", cm("web", `"app":"db"`)).must(t, 200)
	if ev := w.next(); ev.Type != "DELETED" || ev.name() != "web" {
		t.Fatalf("leaving the selector: got %s %s, want DELETED", ev.Type, ev.name())
	}
	e.req("PUT", cmPath+"/other", cm("other", `"app":"web"`)).must(t, 200)
	if ev := w.next(); ev.Type != "ADDED" || ev.name() != "other" {
		t.Fatalf("entering the selector: got %s %s, want ADDED", ev.Type, ev.name())
	}
	e.req("DELETE", cmPath+"/web", nil).must(t, 200) // not matching: no event
	e.req("DELETE", cmPath+"/other", nil).must(t, 200)
	if ev := w.next(); ev.Type != "DELETED" || ev.name() != "other" {
		t.Fatalf("got %s %s, want DELETED other", ev.Type, ev.name())
	}
	// a field selector on the name narrows the watch
	w2 := e.openWatch(cmPath + "?watch=true&fieldSelector=metadata.name%3Dpick&resourceVersion=1")
	e.req("POST", cmPath, cm("skip", "")).must(t, 201)
	e.req("POST", cmPath, cm("pick", "")).must(t, 201)
	if ev := w2.next(); ev.name() != "pick" {
		t.Fatalf("field-selected watch got %s", ev.name())
	}
}

const watchList = "?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true"

// TestWatchList is client-go's WatchList request: the current state as
// ADDED events, a BOOKMARK annotated k8s.io/initial-events-end at the
// state's revision, then changes.
func TestWatchList(t *testing.T) {
	e := newEnv(t)
	for i := range 5 {
		e.req("POST", cmPath, cm(fmt.Sprintf("c%d", i), `"app":"web"`)).must(t, 201)
	}
	e.req("POST", cmPath, cm("db", `"app":"db"`)).must(t, 201)
	last := str(e.req("PUT", cmPath+"/c0", cm("c0", `"app":"web","v":"2"`)).must(t, 200).obj(t), "metadata", "resourceVersion")
	for i, rv := range []string{"", "1", last} {
		w := e.openWatch(cmPath + watchList + "&labelSelector=app%3Dweb&resourceVersion=" + rv)
		seen := map[string]bool{}
		for range 5 {
			ev := w.next()
			if ev.Type != "ADDED" {
				t.Fatalf("rv %q: initial event %s %s, want ADDED", rv, ev.Type, ev.name())
			}
			seen[ev.name()] = true
		}
		if len(seen) != 5 || seen["db"] {
			t.Fatalf("rv %q: initial state %v", rv, seen)
		}
		ev := w.next()
		if ev.Type != "BOOKMARK" || str(ev.Object, "metadata", "annotations", metav1.InitialEventsAnnotationKey) != "true" || atoi(t, ev.rv()) < atoi(t, last) {
			t.Fatalf("rv %q: got %s %v, want the initial-events-end BOOKMARK at >= %s", rv, ev.Type, ev.Object, last)
		}
		listRV := ev.rv()
		upd := str(e.req("PUT", cmPath+"/c3", cm("c3", fmt.Sprintf(`"app":"web","v":"%d"`, i))).must(t, 200).obj(t), "metadata", "resourceVersion")
		if ev := w.nextNonBookmark(); ev.Type != "MODIFIED" || ev.name() != "c3" || ev.rv() != upd || atoi(t, upd) <= atoi(t, listRV) {
			t.Fatalf("rv %q: got %s %s@%s, want MODIFIED c3@%s after %s", rv, ev.Type, ev.name(), ev.rv(), upd, listRV)
		}
		last = upd
	}
	// without allowWatchBookmarks: the state, no bookmark, then changes
	w := e.openWatch(cmPath + "?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&fieldSelector=metadata.name%3Dc1")
	if ev := w.next(); ev.Type != "ADDED" || ev.name() != "c1" {
		t.Fatalf("got %s %s, want ADDED c1", ev.Type, ev.name())
	}
	e.req("DELETE", cmPath+"/c1", nil).must(t, 200)
	if ev := w.next(); ev.Type != "DELETED" || ev.name() != "c1" {
		t.Fatalf("got %s %s, want DELETED c1 (no bookmark)", ev.Type, ev.name())
	}
	// sendInitialEvents=false: changes only, from now
	w = e.openWatch(cmPath + "?watch=true&sendInitialEvents=false&resourceVersionMatch=NotOlderThan")
	e.req("POST", cmPath, cm("late", "")).must(t, 201)
	if ev := w.next(); ev.Type != "ADDED" || ev.name() != "late" {
		t.Fatalf("got %s %s, want ADDED late only", ev.Type, ev.name())
	}
	// a resourceVersion the store has not reached
	st := e.req("GET", cmPath+watchList+"&resourceVersion=99999999", nil).status(t, 504, metav1.StatusReasonTimeout)
	if !strings.HasPrefix(st.Message, "Timeout: Too large resource version: 99999999") {
		t.Fatalf("future resourceVersion: %q", st.Message)
	}
}

// TestWatchOptionsValidation checks kube's ListOptions validation of
// watches: 422 Invalid ListOptions.meta.k8s.io with kube's messages.
func TestWatchOptionsValidation(t *testing.T) {
	e := newEnv(t)
	for q, msg := range map[string]string{
		"?watch=true&sendInitialEvents=true":                                               "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
		"?watch=true&resourceVersionMatch=NotOlderThan":                                    "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
		"?watch=true&sendInitialEvents=true&resourceVersionMatch=Exact":                    `Unsupported value: "Exact"`,
		"?watch=true&sendInitialEvents=false&resourceVersionMatch=NotOlderThan&continue=x": "resourceVersionMatch is forbidden when continue is provided",
	} {
		st := e.req("GET", cmPath+q, nil).status(t, 422, metav1.StatusReasonInvalid)
		if !strings.HasPrefix(st.Message, `ListOptions.meta.k8s.io "" is invalid`) || !strings.Contains(st.Message, msg) {
			t.Errorf("%s: %q, want %q", q, st.Message, msg)
		}
	}
	e.req("GET", cmPath+"?watch=true&fieldSelector="+url.QueryEscape("data.x=1"), nil).status(t, 400, metav1.StatusReasonBadRequest)
}
