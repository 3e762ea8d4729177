package api_test

import (
	"testing"
)

// TestWatchAsTable: `kubectl get -w` asks for Tables; each watch event's
// object is then a Table of the kind's columns with the event's row (as
// kube-apiserver sends it), not the bare object.
func TestWatchAsTable(t *testing.T) {
	e := newEnv(t)
	rv := str(e.req("POST", cmPath, cm("a", "")).must(t, 201).obj(t), "metadata", "resourceVersion")
	w := e.openWatch(cmPath+"?watch=true&resourceVersion="+rv,
		"Accept: application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json")
	if ct := w.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	e.req("POST", cmPath, cm("b", "")).must(t, 201)
	ev := w.next()
	if ev.Type != "ADDED" || ev.Object["kind"] != "Table" || ev.Object["apiVersion"] != "meta.k8s.io/v1" {
		t.Fatalf("event %s of %v %v, want ADDED of a meta.k8s.io/v1 Table", ev.Type, ev.Object["apiVersion"], ev.Object["kind"])
	}
	var cols []string
	for _, c := range ev.Object["columnDefinitions"].([]any) {
		cols = append(cols, c.(map[string]any)["name"].(string))
	}
	if len(cols) != 3 || cols[0] != "Name" || cols[1] != "Data" || cols[2] != "Age" {
		t.Errorf("columns %v, want Name Data Age", cols)
	}
	rows, _ := ev.Object["rows"].([]any)
	if len(rows) != 1 {
		t.Fatalf("%d rows, want 1", len(rows))
	}
	cells := rows[0].(map[string]any)["cells"].([]any)
	if cells[0] != "b" || cells[1] != float64(1) {
		t.Errorf("cells %v, want b 1 AGE", cells)
	}
	// plain watches still get bare objects
	w2 := e.openWatch(cmPath + "?watch=true&resourceVersion=" + rv)
	if ev := w2.next(); ev.Object["kind"] != "ConfigMap" || ev.name() != "b" {
		t.Errorf("plain watch: %v %s, want ConfigMap b", ev.Object["kind"], ev.name())
	}
}
