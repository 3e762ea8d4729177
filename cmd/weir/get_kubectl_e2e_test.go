package main

import (
	"context"
	"encoding/pem"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirnet/weir/control/api"
	"github.com/weirnet/weir/control/store/storetest"
)

// newTLSCLIEnv is newCLIEnv over HTTPS (kubectl sends a token only over
// TLS), with the server's certificate as the CA the CLI trusts; caFile is
// that certificate's file.
func newTLSCLIEnv(t *testing.T) (e *cliEnv, caFile string) {
	t.Helper()
	st := storetest.New(t)
	srv, err := api.New(api.Config{Store: st, Cluster: st, Token: cliToken,
		Registerer: prometheus.NewRegistry(), Logger: storetest.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewTLSServer(srv.Handler())
	t.Cleanup(hs.Close)
	t.Setenv("HOME", t.TempDir())
	for _, v := range []string{"WEIR_SERVER", "WEIR_TOKEN", "WEIR_CONFIG", "KUBECONFIG"} {
		t.Setenv(v, "")
	}
	caFile = filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: hs.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return &cliEnv{url: hs.URL, flags: []string{"--server", hs.URL, "--token", cliToken, "--certificate-authority", caFile}}, caFile
}

// TestCLIGetMatchesKubectl runs `weir get` and the real kubectl's `get`
// against the same API server: the output must be the same text (kubectl
// prints the server's Tables; so must weir). Skipped where kubectl is not
// installed.
func TestCLIGetMatchesKubectl(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl not installed")
	}
	e, caFile := newTLSCLIEnv(t)
	e.mustRun(t, applyCmd, "", "-f", writeManifests(t, shopFiles))
	e.mustRun(t, applyCmd, "apiVersion: v1\nkind: Pod\nmetadata: {name: solo, namespace: shop, labels: {app: solo}}\nspec: {containers: [{name: c, image: busybox}]}\n", "-f", "-")
	for _, args := range [][]string{
		{"pods", "-n", "shop"},
		{"pods", "-A", "-o", "wide"},
		{"svc", "-A"},
		{"deploy,cm", "-n", "shop"},
		{"cm", "settings", "-n", "shop", "--no-headers"},
		{"namespaces"},
	} {
		// AGE may tick between the two runs: retry a mismatch once.
		var weir, kube string
		for range 2 {
			weir = e.mustRun(t, getCmd, "", args...)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			out, err := exec.CommandContext(ctx, kubectl, append([]string{"get", "--server", e.url, "--token", cliToken, "--certificate-authority", caFile}, args...)...).CombinedOutput()
			cancel()
			if err != nil {
				t.Fatalf("kubectl get %v: %v\n%s", args, err, out)
			}
			if kube = string(out); weir == kube {
				break
			}
		}
		if weir != kube {
			t.Errorf("get %v:\n--- weir\n%s--- kubectl\n%s", args, weir, kube)
		}
	}
}
