package client

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
)

const testCA = `-----BEGIN CERTIFICATE-----
MIIBfTCCASOgAwIBAgIQU4l3cx6w3C8lYw9mC0nYVTAKBggqhkjOPQQDAjAaMRgw
FgYDVQQDEw93ZWlyIGNsdXN0ZXIgQ0EwHhcNMjYwMTAxMDAwMDAwWhcNMzYwMTAx
MDAwMDAwWjAaMRgwFgYDVQQDEw93ZWlyIGNsdXN0ZXIgQ0EwWTATBgcqhkjOPQIB
BggqhkjOPQMBBwNCAAR0u0cF3q7Yw7VYc4o1l3mVxYb1o3b3o6WZl3W8c7wYp9b+
-----END CERTIFICATE-----
`

func writeKubeconfig(t *testing.T, path, server, token string) {
	t.Helper()
	data, err := Kubeconfig("weir", server, []byte(testCA), token)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(path, data); err != nil {
		t.Fatal(err)
	}
}

// TestKubeconfigRoundTrip: what Kubeconfig writes, clientcmd loads as a
// standard kubeconfig, and LoadKubeconfig turns into a Config.
func TestKubeconfigRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kubeconfig")
	writeKubeconfig(t, path, "https://127.0.0.1:6443", "tok")
	raw, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if raw.CurrentContext != "weir" || raw.Clusters["weir"] == nil || raw.AuthInfos["weir"].Token != "tok" ||
		string(raw.Clusters["weir"].CertificateAuthorityData) != testCA {
		t.Errorf("kubeconfig as clientcmd reads it: %+v", raw)
	}
	got, err := LoadKubeconfig([]string{path}, "")
	if err != nil {
		t.Fatal(err)
	}
	if got.Server != "https://127.0.0.1:6443" || got.Token != "tok" || string(got.CAData) != testCA ||
		got.Namespace != "default" || got.Source != path {
		t.Errorf("LoadKubeconfig = %+v", got)
	}
	if _, err := LoadKubeconfig([]string{path}, "nope"); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("unknown context: err = %v", err)
	}
	if _, err := Kubeconfig("weir", "https://x", nil, "t"); err == nil {
		t.Error("kubeconfig without a CA: no error")
	}
}

// TestResolveConfigKubeconfigPrecedence: --kubeconfig, $WEIR_CONFIG,
// $KUBECONFIG and the default files are read in the documented order.
func TestResolveConfigKubeconfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	kflag, kenv := filepath.Join(dir, "flag.kubeconfig"), filepath.Join(dir, "env.kubeconfig")
	writeKubeconfig(t, kflag, "https://flag:1", "flag-token")
	writeKubeconfig(t, kenv, "https://env:1", "env-token")
	weirFile := filepath.Join(dir, "weir.yaml")
	if err := WriteConfig(weirFile, Config{Server: "weirfile:1", Token: "weir-token"}); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	resolve := func(o Overrides, env map[string]string) Config {
		t.Helper()
		c, err := ResolveConfig(o, envOf(env))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if c := resolve(Overrides{KubeconfigPath: kflag}, map[string]string{EnvKubeconfig: kenv, EnvConfig: weirFile}); c.Server != "https://flag:1" {
		t.Errorf("--kubeconfig: server %s", c.Server)
	}
	if c := resolve(Overrides{}, map[string]string{EnvKubeconfig: kenv, EnvConfig: weirFile}); c.Server != "weirfile:1" {
		t.Errorf("$WEIR_CONFIG over $KUBECONFIG: server %s", c.Server)
	}
	// $KUBECONFIG is a list: the first file to set current-context wins.
	if c := resolve(Overrides{}, map[string]string{EnvKubeconfig: kenv + string(os.PathListSeparator) + kflag}); c.Server != "https://env:1" || c.Token != "env-token" {
		t.Errorf("$KUBECONFIG list: %+v", c)
	}
	if c := resolve(Overrides{Token: "over"}, map[string]string{EnvKubeconfig: kenv}); c.Token != "over" {
		t.Errorf("--token over the kubeconfig: %s", c.Token)
	}
	if _, err := ResolveConfig(Overrides{KubeconfigPath: kflag, ConfigPath: weirFile}, envOf(nil)); err == nil {
		t.Error("--kubeconfig with --config: no error")
	}
	// Defaults: ~/.kube/weir.config, then ~/.weir/config, then ~/.kube/config.
	if err := WriteConfig(filepath.Join(home, ".weir", "config"), Config{Server: "old:1", Token: "t"}); err != nil {
		t.Fatal(err)
	}
	writeKubeconfig(t, filepath.Join(home, ".kube", "config"), "https://kubeconfig:1", "t")
	if c := resolve(Overrides{}, nil); c.Server != "old:1" {
		t.Errorf("~/.weir/config over ~/.kube/config: server %s", c.Server)
	}
	writeKubeconfig(t, filepath.Join(home, ".kube", "weir.config"), "https://weirup:1", "t")
	if c := resolve(Overrides{}, nil); c.Server != "https://weirup:1" {
		t.Errorf("~/.kube/weir.config first: server %s", c.Server)
	}
}
