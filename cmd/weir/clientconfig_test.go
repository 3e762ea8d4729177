package main

import (
	"flag"
	"io"
	"slices"
	"strings"
	"testing"
)

func TestParseInterspersed(t *testing.T) {
	for _, tt := range []struct {
		args      []string
		pos       []string
		ns, out   string
		all       bool
		wantError bool
	}{
		{args: []string{"pods", "-n", "kube-system"}, pos: []string{"pods"}, ns: "kube-system"},
		{args: []string{"-n", "x", "svc", "web", "-o", "wide"}, pos: []string{"svc", "web"}, ns: "x", out: "wide"},
		{args: []string{"po", "--all-namespaces", "a", "-A"}, pos: []string{"po", "a"}, all: true},
		{args: []string{"cm", "--", "-n", "x"}, pos: []string{"cm", "-n", "x"}},
		{args: []string{"apply", "-f", "-"}, pos: []string{"apply"}},
		{args: []string{"po", "--bogus"}, wantError: true},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var ns, out, file string
		var all bool
		fs.StringVar(&ns, "n", "", "")
		fs.StringVar(&out, "o", "", "")
		fs.StringVar(&file, "f", "", "")
		fs.BoolVar(&all, "A", false, "")
		fs.BoolVar(&all, "all-namespaces", false, "")
		pos, err := parseInterspersed(fs, tt.args)
		if tt.wantError {
			if err == nil {
				t.Errorf("%v: no error", tt.args)
			}
			continue
		}
		if err != nil || !slices.Equal(pos, tt.pos) || ns != tt.ns || out != tt.out || all != tt.all {
			t.Errorf("%v: pos %v ns %q out %q all %v err %v; want %v %q %q %v", tt.args, pos, ns, out, all, err, tt.pos, tt.ns, tt.out, tt.all)
		}
	}
}

func TestKindAndNames(t *testing.T) {
	for _, tt := range []struct {
		args  []string
		kind  string
		names []string
		err   string
	}{
		{args: []string{"po"}, kind: "po"},
		{args: []string{"po", "a", "b"}, kind: "po", names: []string{"a", "b"}},
		{args: []string{"svc/web"}, kind: "svc", names: []string{"web"}},
		{args: []string{"svc/web", "svc/db"}, kind: "svc", names: []string{"web", "db"}},
		{args: nil, err: "name a resource type"},
		{args: []string{"svc/"}, err: "TYPE/NAME"},
		{args: []string{"svc/web", "po/x"}, err: "mixed types"},
	} {
		kind, names, err := kindAndNames(tt.args)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%v: err %v, want %q", tt.args, err, tt.err)
			}
			continue
		}
		if err != nil || kind != tt.kind || !slices.Equal(names, tt.names) {
			t.Errorf("%v: %q %v %v; want %q %v", tt.args, kind, names, err, tt.kind, tt.names)
		}
	}
}
