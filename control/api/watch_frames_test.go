package api_test

import (
	"fmt"
	"strings"
	"testing"
)

// TestWatchFramesSharedByWatchers: 40 JSON watchers and 10 Table
// watchers (kubectl get -w) of the same ConfigMaps see every event, yet
// each event is encoded once per shape (2 per event), not once per
// watcher; a watcher with a label selector gets a DELETED when an object
// stops matching, from the same shared decode.
func TestWatchFramesSharedByWatchers(t *testing.T) {
	e := newEnv(t)
	frames := func() float64 {
		mfs, err := e.reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "weir_api_watch_frames_encoded_total" {
				return mf.GetMetric()[0].GetCounter().GetValue()
			}
		}
		t.Fatal("no weir_api_watch_frames_encoded_total")
		return 0
	}
	rv := str(e.req("POST", cmPath, cm("seed", "")).must(t, 201).obj(t), "metadata", "resourceVersion")
	var ws []*watch
	for range 40 {
		ws = append(ws, e.openWatch(cmPath+"?watch=true&resourceVersion="+rv))
	}
	var tables []*watch
	for range 10 {
		tables = append(tables, e.openWatch(cmPath+"?watch=true&resourceVersion="+rv, "Accept: application/json;as=Table;v=v1;g=meta.k8s.io"))
	}
	sel := e.openWatch(cmPath + "?watch=true&labelSelector=app%3Dx&resourceVersion=" + rv)
	before := frames()
	const n = 10
	for i := range n {
		e.req("POST", cmPath, cm(fmt.Sprintf("c%d", i), `"app":"x"`)).must(t, 201)
	}
	e.req("PUT", cmPath+"/c0", cm("c0", `"app":"y"`)).must(t, 200)
	for i, w := range ws {
		for j := range n {
			if ev := w.next(); ev.Type != "ADDED" || ev.name() != fmt.Sprintf("c%d", j) {
				t.Fatalf("watcher %d event %d: %s %s", i, j, ev.Type, ev.name())
			}
		}
		if ev := w.next(); ev.Type != "MODIFIED" || ev.name() != "c0" {
			t.Fatalf("watcher %d: %s %s, want MODIFIED c0", i, ev.Type, ev.name())
		}
	}
	for i, w := range tables {
		for j := range n + 1 {
			if ev := w.next(); str(ev.Object, "kind") != "Table" || !strings.Contains(fmt.Sprint(ev.Object["rows"]), "c") {
				t.Fatalf("table watcher %d event %d: %s %v", i, j, ev.Type, ev.Object)
			}
		}
	}
	for j := range n {
		if ev := sel.next(); ev.Type != "ADDED" || ev.name() != fmt.Sprintf("c%d", j) {
			t.Fatalf("selector watcher event %d: %s %s", j, ev.Type, ev.name())
		}
	}
	if ev := sel.next(); ev.Type != "DELETED" || ev.name() != "c0" {
		t.Fatalf("selector watcher: %s %s, want DELETED c0 (it stopped matching)", ev.Type, ev.name())
	}
	// JSON ADDED/MODIFIED, Table, and the selector's DELETED: one each.
	got := frames() - before
	if want := float64(2*(n+1) + 1); got != want {
		t.Errorf("%v frames encoded for %d events to 51 watchers; want %v", got, n+1, want)
	}
}
