package main

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/weirnet/weir/control/client"
	"github.com/weirnet/weir/control/store/storetest"

	"github.com/weirnet/weir/tests/testutil"
)

// waitFor polls a command's output until it matches or the deadline.
func waitFor(t *testing.T, out *testutil.SyncBuffer, re *regexp.Regexp) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !re.MatchString(out.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("output never matched %s:\n%s", re, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCLIGetWatch runs `weir get cm -w` and checks it prints the listed
// object, then each change, until its context ends.
func TestCLIGetWatch(t *testing.T) {
	e := newCLIEnv(t)
	e.mustRun(t, applyCmd, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: first}\n", "-f", "-")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut testutil.SyncBuffer
	done := make(chan error, 1)
	go func() {
		done <- getCmd(ctx, cliIO{in: strings.NewReader(""), out: &out, errOut: &errOut}, append([]string{"cm", "-w"}, e.flags...))
	}()
	waitFor(t, &out, regexp.MustCompile(`(?m)^NAME +DATA +AGE\nfirst +0 +`))
	e.mustRun(t, applyCmd, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: second}\ndata: {a: b, c: d}\n", "-f", "-")
	waitFor(t, &out, regexp.MustCompile(`(?m)^second +2 +`))
	e.mustRun(t, deleteCmd, "", "cm", "first")
	waitFor(t, &out, regexp.MustCompile(`(?m)^first +0 +.*\n(?s:.*)^first +0 +`))
	e.mustRun(t, applyCmd, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other, namespace: kube-system}\n", "-f", "-")
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("get -w ended with %v; stderr %s", err, errOut.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("get -w did not end after its context was cancelled")
	}
	if strings.Contains(out.String(), "other") {
		t.Errorf("watch in default printed an object of kube-system:\n%s", out.String())
	}
}

// TestCLIGetWatchOneObject watches a named object that does not exist yet.
func TestCLIGetWatchOneObject(t *testing.T) {
	e := newCLIEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut testutil.SyncBuffer
	done := make(chan error, 1)
	go func() {
		done <- getCmd(ctx, cliIO{in: strings.NewReader(""), out: &out, errOut: &errOut}, append([]string{"cm", "target", "-w", "-o", "name"}, e.flags...))
	}()
	time.Sleep(300 * time.Millisecond) // let the watch open; either way the list+watch sees the create
	e.mustRun(t, applyCmd, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bystander}\n", "-f", "-")
	e.mustRun(t, applyCmd, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: target}\n", "-f", "-")
	waitFor(t, &out, regexp.MustCompile(`(?m)^configmap/target$`))
	cancel()
	if err := <-done; err != nil {
		t.Errorf("get -w: %v", err)
	}
	if strings.Contains(out.String(), "bystander") {
		t.Errorf("watching one object printed another:\n%s", out.String())
	}
}

func TestCLIGetErrors(t *testing.T) {
	e := newCLIEnv(t)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"gizmos"}, `doesn't have a resource type "gizmos"`},
		{[]string{"po", "-o", "xml"}, `unknown output format "xml"`},
		{[]string{"po", "-l", "a in ("}, "invalid label selector"},
		{[]string{"po", "nope"}, `Error from server (NotFound): pods "nope" not found`},
		{[]string{}, "name a resource type"},
	} {
		_, _, err := e.run(t, getCmd, "", tt.args...)
		if err == nil || !strings.Contains(client.FormatError(err), tt.want) {
			t.Errorf("get %v: err %s, want %q", tt.args, client.FormatError(err), tt.want)
		}
	}
	// A wrong token is the server's 401, said plainly.
	var out, errOut testutil.SyncBuffer
	err := getCmd(context.Background(), cliIO{in: strings.NewReader(""), out: &out, errOut: &errOut},
		[]string{"po", "--server", e.url, "--token", "wrong"})
	if err == nil || !strings.Contains(client.FormatError(err), "Error from server (Unauthorized)") {
		t.Errorf("wrong token: %s", client.FormatError(err))
	}
	// No server anywhere: say how to get one.
	err = getCmd(context.Background(), cliIO{in: strings.NewReader(""), out: &out, errOut: &errOut}, []string{"po"})
	if err == nil || !strings.Contains(err.Error(), "make up") {
		t.Errorf("no server configured: %v", err)
	}
}

func TestCLIGetAll(t *testing.T) {
	e := newCLIEnv(t)
	_, errOut, err := e.run(t, getCmd, "", "all", "-n", "kube-public")
	if err != nil || !strings.Contains(errOut, "No resources found in kube-public namespace.") {
		t.Errorf("get all in an empty namespace: %v %q", err, errOut)
	}
	dir := writeManifests(t, shopFiles)
	e.mustRun(t, applyCmd, "", "-f", dir)
	out := e.mustRun(t, getCmd, "", "all", "-n", "shop")
	if !regexp.MustCompile(`(?m)^NAME +TYPE +CLUSTER-IP .*\nservice/web +ClusterIP .*\n\nNAME +READY +UP-TO-DATE +AVAILABLE +AGE\ndeployment.apps/web +0/2 `).MatchString(out) {
		t.Errorf("get all:\n%s", out)
	}
	out = e.mustRun(t, getCmd, "", "svc,cm", "-n", "shop", "-o", "name")
	wantLines(t, "get svc,cm -o name", out, "service/web", "configmap/settings")
	out = e.mustRun(t, getCmd, "", "svc,cm", "-n", "shop", "-o", "json")
	if strings.Count(out, `"kind": "Service"`) != 1 || strings.Count(out, `"kind": "ConfigMap"`) != 1 || !strings.Contains(out, `"kind": "List"`) {
		t.Errorf("get svc,cm -o json:\n%s", out)
	}
	if _, _, err := e.run(t, getCmd, "", "svc,cm", "web"); err == nil {
		t.Error("names with several types: no error")
	}
}

// TestCLIWatchRelistsWhenGone resumes a watch from a revision older than
// the store's history: the watch loop lists again, prints the current
// state and goes on watching.
func TestCLIWatchRelistsWhenGone(t *testing.T) {
	cfg := storetest.Config("m1", t.TempDir())
	cfg.Bootstrap = true
	cfg.HistoryRevisions = 5
	e := newCLIEnvOn(t, storetest.Open(t, cfg))
	for i := range 12 {
		e.mustRun(t, applyCmd, fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c%d}\n", i), "-f", "-")
	}
	c, err := client.New(client.Config{Server: e.url, Token: cliToken})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err := c.ResolveResource(ctx, "cm")
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut testutil.SyncBuffer
	g := &getter{c: c, io: cliIO{out: &out, errOut: &errOut}, o: getOptions{watch: true}, res: res, ns: "default"}
	done := make(chan error, 1)
	go func() { done <- g.watchLoop(ctx, "1") }()
	// c0 is far older than the 5 revisions of history: only a relist shows it.
	waitFor(t, &out, regexp.MustCompile(`(?s)^NAME +DATA +AGE\nc0 .*\nc11 +0 `))
	e.mustRun(t, applyCmd, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: later}\n", "-f", "-")
	waitFor(t, &out, regexp.MustCompile(`(?m)^later +0 `))
	cancel()
	if err := <-done; err != nil {
		t.Errorf("watch loop: %v", err)
	}
}
