package objfile

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestLoadFile(t *testing.T) {
	objs, err := Load("testdata/cluster.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(objs.Services) != 4 || len(objs.EndpointSlices) != 1 || len(objs.Pods) != 1 || objs.Skipped != 1 {
		t.Fatalf("got %d services, %d slices, %d pods, %d skipped", len(objs.Services), len(objs.EndpointSlices), len(objs.Pods), objs.Skipped)
	}
	db := objs.Services[2]
	if db.Namespace != "default" || db.Spec.ClusterIP != "None" || db.Spec.Ports[0].Port != 5432 {
		t.Fatalf("db service: %+v", db)
	}
	ep := objs.EndpointSlices[0].Endpoints[0]
	if *ep.Hostname != "db-0" || !*ep.Conditions.Ready || ep.Addresses[0] != "10.244.1.5" {
		t.Fatalf("endpoint: %+v", ep)
	}
	if objs.Pods[0].Status.PodIP != "10.244.1.10" {
		t.Fatalf("pod: %+v", objs.Pods[0].Status)
	}
}

func TestLoadDirectory(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a.yaml"), "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {clusterIP: 10.96.0.5}\n")
	write(t, filepath.Join(dir, "b.json"), `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"x"}}`)
	write(t, filepath.Join(dir, "notes.txt"), "not a manifest")
	objs, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs.Services) != 1 || len(objs.Pods) != 1 || objs.Pods[0].Namespace != "x" {
		t.Fatalf("got %+v", objs)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	for name, tc := range map[string]struct{ body, want string }{
		"bad-yaml":      {"apiVersion: v1\nkind: Service\nmetadata: [\n", "document 1"},
		"no-kind":       {"metadata: {name: a}\n", "apiVersion and kind"},
		"unknown-field": {"apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {clusterIPP: 1}\n", "clusterIPP"},
		"no-name":       {"apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Pod\nmetadata: {namespace: a}\n", "document 2: metadata.name"},
	} {
		path := filepath.Join(dir, name+".yaml")
		write(t, path, tc.body)
		_, err := Load(path)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %v, want it to name the file and %q", name, err, tc.want)
		}
	}
	if _, err := Load(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing path accepted")
	}
}

func TestWatcherReloads(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "svc.yaml")
	svc := func(ip string) string {
		return "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {clusterIP: " + ip + "}\n"
	}
	write(t, path, svc("10.96.0.5"))
	loads := make(chan Objects, 10)
	hup := make(chan os.Signal, 1)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	w := &Watcher{Path: dir, Interval: 20 * time.Millisecond, Logger: log, OnLoad: func(o Objects) { loads <- o }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, hup) }()
	defer func() { cancel(); <-done }()

	time.Sleep(50 * time.Millisecond) // let Run take its first fingerprint
	write(t, path, svc("10.96.0.66"))
	if o := next(t, loads); o.Services[0].Spec.ClusterIP != "10.96.0.66" {
		t.Fatalf("after the change: %s", o.Services[0].Spec.ClusterIP)
	}
	hup <- syscall.SIGHUP
	next(t, loads)
	write(t, path, "apiVersion: v1\nkind: Service\nmetadata: [\n")
	select {
	case o := <-loads:
		t.Fatalf("a broken file was loaded: %+v", o)
	case <-time.After(200 * time.Millisecond):
	}
}

func next(t *testing.T, c <-chan Objects) Objects {
	t.Helper()
	select {
	case o := <-c:
		return o
	case <-time.After(10 * time.Second):
		t.Fatal("no reload")
	}
	return Objects{}
}

func write(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
