package client

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestWriteConfigRoundTripAndMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "config")
	want := Config{Server: "http://127.0.0.1:6443", Token: "s3cret", Namespace: "apps"}
	if err := WriteConfig(path, want); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("config mode = %v, want 0600", st.Mode().Perm())
	}
	if dst, _ := os.Stat(filepath.Dir(path)); dst.Mode().Perm() != 0o700 {
		t.Errorf("config dir mode = %v, want 0700", dst.Mode().Perm())
	}
	got, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Source = ""; !reflect.DeepEqual(got, want) {
		t.Errorf("round trip: got %+v, want %+v", got, want)
	}
	// Overwriting keeps 0600 and leaves no temporary files behind.
	if err := WriteConfig(path, Config{Server: "x:1"}); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("config dir holds %d entries, want 1", len(entries))
	}
}

func TestResolveConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "config")
	if err := WriteConfig(file, Config{Server: "file:1", Token: "file-token", Namespace: "filens"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		o    Overrides
		env  map[string]string
		want Config
	}{
		{"file only", Overrides{ConfigPath: file}, nil,
			Config{Server: "file:1", Token: "file-token", Namespace: "filens"}},
		{"env over file", Overrides{ConfigPath: file}, map[string]string{EnvServer: "env:2", EnvToken: "env-token"},
			Config{Server: "env:2", Token: "env-token", Namespace: "filens"}},
		{"flags over env", Overrides{ConfigPath: file, Server: "flag:3", Token: "flag-token", Namespace: "flagns"},
			map[string]string{EnvServer: "env:2", EnvToken: "env-token"},
			Config{Server: "flag:3", Token: "flag-token", Namespace: "flagns"}},
		{"WEIR_CONFIG names the file", Overrides{}, map[string]string{EnvConfig: file},
			Config{Server: "file:1", Token: "file-token", Namespace: "filens"}},
		{"flag path over WEIR_CONFIG", Overrides{ConfigPath: file}, map[string]string{EnvConfig: "/nonexistent"},
			Config{Server: "file:1", Token: "file-token", Namespace: "filens"}},
		{"no file, env only, default namespace", Overrides{}, map[string]string{"HOME": dir, EnvServer: "env:2"},
			Config{Server: "env:2", Namespace: "default"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("HOME", t.TempDir()) // no ~/.weir/config
			got, err := ResolveConfig(tt.o, envOf(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if got.Source = ""; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestResolveConfigDefaultPath(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	if err := WriteConfig(filepath.Join(home, ".weir", "config"), Config{Server: "home:1", Token: "t"}); err != nil {
		t.Fatal(err)
	}
	got, err := ResolveConfig(Overrides{}, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got.Server != "home:1" || got.Token != "t" {
		t.Errorf("got %+v, want the ~/.weir/config values", got)
	}
}

func TestResolveConfigErrors(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	_, err := ResolveConfig(Overrides{}, envOf(nil))
	if err == nil || !strings.Contains(err.Error(), "make up") || !strings.Contains(err.Error(), "--server") {
		t.Errorf("no server: err = %v, want advice to run make up or pass --server", err)
	}
	_, err = ResolveConfig(Overrides{ConfigPath: filepath.Join(t.TempDir(), "missing")}, envOf(nil))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("explicit missing file: err = %v, want fs.ErrNotExist", err)
	}
	bad := filepath.Join(t.TempDir(), "bad")
	if err := os.WriteFile(bad, []byte("server: x\nbogus: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ResolveConfig(Overrides{ConfigPath: bad}, envOf(nil)); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("unknown field: err = %v, want it named", err)
	}
}

func TestNewParsesServer(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:6443":         "https://127.0.0.1:6443",
		"http://127.0.0.1:6443/": "http://127.0.0.1:6443",
		"https://weir.example":   "https://weir.example",
	} {
		c, err := New(Config{Server: in})
		if err != nil {
			t.Fatalf("New(%q): %v", in, err)
		}
		if c.Server() != want {
			t.Errorf("New(%q).Server() = %q, want %q", in, c.Server(), want)
		}
	}
	for _, bad := range []string{"", "ftp://x", "http://", "https://x|y"} {
		if _, err := New(Config{Server: bad}); err == nil {
			t.Errorf("New(%q): no error", bad)
		}
	}
	if _, err := New(Config{Server: "https://x:1", CAFile: "/nonexistent"}); err == nil {
		t.Error("missing CA file: no error")
	}
}
