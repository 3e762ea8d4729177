package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weirnet/weir/control/controllers"
	"github.com/weirnet/weir/control/member"
	"github.com/weirnet/weir/control/store/storetest"
)

// TestKubeconfigUser: `weir kubeconfig --user NAME --group G` on a
// member's data dir issues a client certificate that the member's API
// authenticates as NAME in G (kubectl auth whoami), with only what RBAC
// gives it (kubectl auth can-i).
func TestKubeconfigUser(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("kubectl is not installed: run make deps")
		}
		t.Skip("kubectl is not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := t.TempDir()
	m, err := member.Start(ctx, member.Config{Name: "m1", DataDir: dir, Listen: "127.0.0.1:0", Peer: "127.0.0.1:0",
		Bootstrap: true, Logger: storetest.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	lctx, stop := context.WithCancel(ctx)
	wait := m.StartLeaderLoops(lctx, controllers.Config{}) // the bootstrap policy
	defer func() { stop(); wait() }()
	if err := m.EnsureDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	data, err := userKubeconfig(dir, m.APIURL(), "", "dana", []string{"ops", "qa"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "token") {
		t.Errorf("the user's kubeconfig carries a token:\n%s", data)
	}
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kc, data, 0o600); err != nil {
		t.Fatal(err)
	}
	kubectlOut := func(args ...string) (string, error) {
		out, err := exec.CommandContext(ctx, kubectl, append([]string{"--kubeconfig", kc}, args...)...).Output()
		return strings.TrimSpace(string(out)), err
	}
	// once the leader has reconciled the bootstrap policy, every user
	// may review itself (system:basic-user)
	var out string
	for i := 0; i < 100; i++ {
		if out, err = kubectlOut("auth", "whoami", "-o", "jsonpath={.status.userInfo.username} {.status.userInfo.groups}"); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	// (x509 keeps the O values as a DER SET: their order is the encoding's)
	if err != nil || (out != `dana ["ops","qa","system:authenticated"]` && out != `dana ["qa","ops","system:authenticated"]`) {
		t.Errorf("whoami: %q %v", out, err)
	}
	if out, err := kubectlOut("auth", "can-i", "list", "secrets"); out != "no" || err == nil {
		t.Errorf("can-i list secrets: %q %v", out, err)
	}
	if _, err := userKubeconfig(t.TempDir(), m.APIURL(), "", "dana", nil, time.Hour); err == nil {
		t.Error("a data dir without a cluster issued a certificate")
	}
}
