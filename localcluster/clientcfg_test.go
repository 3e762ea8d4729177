package localcluster

import (
	"os"
	"path/filepath"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
)

// TestKubeconfigs: weir up's kubeconfig (data dir and ~/.kube/weir.config,
// 0600) names the proxy over https with the cluster CA and token; an
// existing ~/.kube/config is left alone; `weir kubeconfig` reads the same
// from the data dir, or from a member's data dir.
func TestKubeconfigs(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("SUDO_USER", "")
	cfg := Config{DataDir: t.TempDir(), Bin: "/bin", Listen: "127.0.0.1:7443"}
	if err := cfg.defaults(); err != nil {
		t.Fatal(err)
	}
	const ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
	if err := os.MkdirAll(cfg.controlDir(), 0o700); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{"token": "tok\n", "ca.crt": ca} {
		if err := os.WriteFile(filepath.Join(cfg.controlDir(), name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := saveState(cfg.stateFile(), cfg.plan("/sys/fs/cgroup")); err != nil {
		t.Fatal(err)
	}
	mine := filepath.Join(home, ".kube", "config")
	if err := os.MkdirAll(filepath.Dir(mine), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mine, []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	paths, err := writeKubeconfigs(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 2 || paths[0] != cfg.kubeconfigPath() || paths[1] != filepath.Join(home, ".kube", "weir.config") {
		t.Fatalf("paths %v", paths)
	}
	if b, _ := os.ReadFile(mine); string(b) != "mine" {
		t.Errorf("~/.kube/config was changed: %q", b)
	}
	check := func(what string, data []byte, server string) {
		t.Helper()
		c, err := clientcmd.Load(data)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		ctx := c.Contexts[c.CurrentContext]
		if ctx == nil || c.Clusters[ctx.Cluster].Server != server || string(c.Clusters[ctx.Cluster].CertificateAuthorityData) != ca ||
			c.AuthInfos[ctx.AuthInfo].Token != "tok" {
			t.Errorf("%s: %+v", what, c)
		}
	}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v mode %v", p, err, st.Mode())
		}
		data, _ := os.ReadFile(p)
		check(p, data, "https://127.0.0.1:7443")
	}
	data, err := AdminKubeconfig(cfg.DataDir, "", "")
	if err != nil {
		t.Fatal(err)
	}
	check("weir kubeconfig --data-dir", data, "https://127.0.0.1:7443")
	data, err = AdminKubeconfig(cfg.controlDir(), "https://192.168.77.254:6443", "")
	if err != nil {
		t.Fatal(err)
	}
	check("weir kubeconfig of a member's data dir", data, "https://192.168.77.254:6443")
	if _, err := AdminKubeconfig(t.TempDir(), "", ""); err == nil {
		t.Error("an empty dir: no error")
	}
}
