package controllers

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

func TestExpectations(t *testing.T) {
	t0 := time.Unix(1000, 0)
	e := newExpectations()
	if !e.satisfied("ns/a", t0) {
		t.Fatal("no expectations: want satisfied")
	}
	e.expect("ns/a", 2, []types.UID{"u1"}, t0)
	steps := []struct {
		do   func()
		want bool
	}{
		{func() {}, false},
		{func() { e.created("ns/a") }, false},
		{func() { e.created("ns/a") }, false}, // u1 still pending
		{func() { e.deleted("ns/b", "u1") }, false},
		{func() { e.deleted("ns/a", "u1") }, true},
		{func() { e.created("ns/a") }, true}, // extra creations do not go negative
	}
	for i, s := range steps {
		s.do()
		if got := e.satisfied("ns/a", t0); got != s.want {
			t.Fatalf("step %d: satisfied %v, want %v", i, got, s.want)
		}
	}
	e.expect("ns/a", 1, nil, t0)
	if e.satisfied("ns/a", t0.Add(expectationsTTL)) {
		t.Fatal("pending at the TTL: want unsatisfied")
	}
	if !e.satisfied("ns/a", t0.Add(expectationsTTL+time.Second)) {
		t.Fatal("pending past the TTL: want satisfied")
	}
	e.forget("ns/a")
	if !e.satisfied("ns/a", t0) {
		t.Fatal("forgotten: want satisfied")
	}
}
