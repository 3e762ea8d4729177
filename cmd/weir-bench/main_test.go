package main

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEveryBenchmarkTakesHelp: each benchmark parses its flags before it
// starts anything, so -h answers with its flags and runs nothing.
func TestEveryBenchmarkTakesHelp(t *testing.T) {
	for name, b := range benchmarks() {
		if err := b.run(context.Background(), []string{"-h"}); !errors.Is(err, flag.ErrHelp) {
			t.Errorf("weir-bench %s -h: %v, want flag.ErrHelp", name, err)
		}
	}
}

// TestSchedulerWritesItsSection runs the cheapest benchmark at a small
// size and checks the report quotes the weir-bench command line.
func TestSchedulerWritesItsSection(t *testing.T) {
	dir := t.TempDir()
	md := filepath.Join(dir, "benchmarks.md")
	args := []string{"-nodes", "50", "-pods", "100", "-out", md, "-json-dir", dir}
	if err := runScheduler(context.Background(), args); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<!-- bench:scheduler -->", "Command: `weir-bench scheduler -nodes 50 -pods 100 -out ", "| 50 | 100 | all |"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("report lacks %q:\n%s", want, b)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "scheduler.json")); err != nil {
		t.Error(err)
	}
}

// TestWeirIn: weir-bench runs the weir beside it and says how to get one
// when it is missing.
func TestWeirIn(t *testing.T) {
	dir := t.TempDir()
	if _, err := weirIn(dir); err == nil || !strings.Contains(err.Error(), "make build") {
		t.Fatalf("no weir: %v, want an error that says to run make build", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "weir"), []byte("#!/bin/sh\necho weir v1.2-3-gabc\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	w, err := weirIn(dir)
	if err != nil {
		t.Fatal(err)
	}
	if w.bin != filepath.Join(dir, "weir") || w.version != "v1.2-3-gabc" {
		t.Fatalf("got %+v", w)
	}
}
