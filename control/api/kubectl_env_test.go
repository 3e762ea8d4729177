package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weirnet/weir/control/api"
	"github.com/weirnet/weir/control/store/storetest"
)

// kubectlEnv is a weir API server over TLS on 127.0.0.1 (httptest's
// certificate), a kubeconfig for the real kubectl (skipping verification
// of that certificate, sending the token), and the record of every request
// the server saw.
type kubectlEnv struct {
	*env
	dir, kubeconfig string

	mu       sync.Mutex
	requests []string // "METHOD path?query", in order
}

// newKubectlEnv skips when kubectl is missing, unless under CI (where
// `make deps` installs it).
func newKubectlEnv(t *testing.T) *kubectlEnv {
	t.Helper()
	if _, err := exec.LookPath("kubectl"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("kubectl is not installed: run make deps")
		}
		t.Skip("kubectl is not installed")
	}
	k := &kubectlEnv{dir: t.TempDir()}
	k.env = newTLSEnv(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			k.mu.Lock()
			k.requests = append(k.requests, r.Method+" "+r.URL.RequestURI())
			k.mu.Unlock()
			h.ServeHTTP(w, r)
		})
	})
	k.kubeconfig = filepath.Join(k.dir, "kubeconfig")
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: weir
  cluster:
    server: %s
    insecure-skip-tls-verify: true
users:
- name: admin
  user:
    token: %s
contexts:
- name: weir
  context: {cluster: weir, user: admin, namespace: default}
current-context: weir
`, k.http.URL, testToken)
	if err := os.WriteFile(k.kubeconfig, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return k
}

// newTLSEnv is an API server on a real store over TLS (httptest's
// self-signed certificate); wrap, if given, wraps its handler.
func newTLSEnv(t *testing.T, wrap ...func(http.Handler) http.Handler) *env {
	t.Helper()
	st := storetest.New(t)
	srv, err := api.New(api.Config{Store: st, Cluster: st, Token: testToken, Logger: storetest.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()
	for _, w := range wrap {
		h = w(h)
	}
	hs := httptest.NewUnstartedServer(h)
	hs.StartTLS()
	t.Cleanup(hs.Close)
	return &env{t: t, store: st, server: srv, http: hs}
}

// kubectlEnv runs kubectl with args, stdin and extra environment; it
// returns the combined output and whether kubectl exited 0.
func (k *kubectlEnv) kubectlEnv(t *testing.T, stdin string, env []string, args ...string) (string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args = append([]string{"--kubeconfig", k.kubeconfig, "--cache-dir", filepath.Join(k.dir, "cache"), "--request-timeout", "30s"}, args...)
	cmd := exec.CommandContext(ctx, "kubectl", args...)
	cmd.Env = append(append(os.Environ(), "HOME="+k.dir, "KUBECONFIG="+k.kubeconfig), env...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

func (k *kubectlEnv) kubectl(t *testing.T, stdin string, args ...string) (string, bool) {
	t.Helper()
	return k.kubectlEnv(t, stdin, nil, args...)
}

// run runs kubectl and returns its output, and an error when it failed.
func (k *kubectlEnv) run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	out, ok := k.kubectl(t, "", args...)
	if !ok {
		return out, fmt.Errorf("kubectl %s failed", strings.Join(args, " "))
	}
	return out, nil
}

func (k *kubectlEnv) mustKubectlEnv(t *testing.T, env []string, args ...string) string {
	t.Helper()
	out, ok := k.kubectlEnv(t, "", env, args...)
	if !ok {
		t.Fatalf("kubectl %s: %s", strings.Join(args, " "), out)
	}
	return out
}

func (k *kubectlEnv) mustKubectl(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, ok := k.kubectl(t, stdin, args...)
	if !ok {
		t.Fatalf("kubectl %s: %s", strings.Join(args, " "), out)
	}
	return out
}

// seen lists the recorded requests that start with prefix.
func (k *kubectlEnv) seen(prefix string) []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []string
	for _, r := range k.requests {
		if strings.HasPrefix(r, prefix) {
			out = append(out, r)
		}
	}
	return out
}
