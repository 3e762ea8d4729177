package main

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirnet/weir/control/api"
	"github.com/weirnet/weir/control/store"
	"github.com/weirnet/weir/control/store/storetest"

	"github.com/weirnet/weir/tests/testutil"
)

const cliToken = "cli-token"

// cliEnv is a real API server on a real single-member store, and the
// flags that point the CLI's client commands at it.
type cliEnv struct {
	url   string
	flags []string
}

func newCLIEnv(t *testing.T) *cliEnv {
	t.Helper()
	return newCLIEnvOn(t, storetest.New(t))
}

func newCLIEnvOn(t *testing.T, st *store.Store) *cliEnv {
	t.Helper()
	srv, err := api.New(api.Config{Store: st, Cluster: st, Token: cliToken, BookmarkInterval: 200 * time.Millisecond,
		Registerer: prometheus.NewRegistry(), Logger: storetest.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	// No ~/.weir/config or WEIR_* from the machine running the tests.
	t.Setenv("HOME", t.TempDir())
	for _, v := range []string{"WEIR_SERVER", "WEIR_TOKEN", "WEIR_CONFIG"} {
		t.Setenv(v, "")
	}
	return &cliEnv{url: hs.URL, flags: []string{"--server", hs.URL, "--token", cliToken}}
}

type cliFunc func(ctx context.Context, io cliIO, args []string) error

// run runs one client command with the env's flags and stdin.
func (e *cliEnv) run(t *testing.T, cmd cliFunc, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut testutil.SyncBuffer
	err = cmd(ctx, cliIO{in: strings.NewReader(stdin), out: &out, errOut: &errOut}, append(args, e.flags...))
	return out.String(), errOut.String(), err
}

// mustRun runs a command that must succeed and returns its stdout.
func (e *cliEnv) mustRun(t *testing.T, cmd cliFunc, stdin string, args ...string) string {
	t.Helper()
	out, errOut, err := e.run(t, cmd, stdin, args...)
	if err != nil {
		t.Fatalf("%v: %v\nstderr: %s", args, err, errOut)
	}
	return out
}

func writeManifests(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// wantLines checks that out holds exactly these lines.
func wantLines(t *testing.T, what, out string, lines ...string) {
	t.Helper()
	if got := strings.TrimRight(out, "\n"); got != strings.Join(lines, "\n") {
		t.Errorf("%s:\n%s\nwant:\n%s", what, got, strings.Join(lines, "\n"))
	}
}
